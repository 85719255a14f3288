/**
 * The seam between providers and the pipeline: what a provider hands in (a raw event, through a
 * sink), and what it maps that to (a canonical event, through its adapter). Providers and the
 * pipeline both import this folder; neither imports the other.
 */
export type { CanonicalEvent, CanonicalEventFields } from './canonical-event.js';
export type { ChannelAccountEventAdapter, LinkedAccountEventAdapter, ProviderEventAdapter } from './provider-event-adapter.js';
export type { RawEventSink } from './raw-event-sink.js';
export { decodeRawEvent, encodeRawEvent, rawProviderEventSchema, rawEventMsgId, type RawProviderEvent } from './raw-provider-event.js';
