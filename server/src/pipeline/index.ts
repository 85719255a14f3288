export type { CanonicalEvent, CanonicalEventFields } from './canonical-event.js';
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
export { decodeRawEvent, encodeRawEvent, rawProviderEventSchema, rawEventMsgId, type RawProviderEvent } from './raw-provider-event.js';
