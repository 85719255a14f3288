export {
  applyChannelConfig,
  applyEvent,
  applyTimer,
  channelStateSchema,
  initialChannelState,
  providerStateSchema,
  type ChannelState,
  type ProviderState,
  type StateContext,
  type Transition,
} from './channel-state.js';
export { ChannelStateStore } from './channel-state-store.js';
export { LivePipeline, type LivePipelineOptions } from './live-pipeline.js';
export { RawEventIngest } from './raw-event-ingest.js';
// The raw event codec is the pipeline's input format; it lives with the provider seam.
export { decodeRawEvent, encodeRawEvent, type RawProviderEvent } from '../provider-adapter/index.js';
