export * from './bus.js';
export { encodeJson, decodeJson, decodeText } from './json.js';
export { SUBJECTS, STREAMS, BUCKETS, CONSUMERS } from './subjects.js';
export { createMemoryBus } from './memory.js';
export { createNatsBus } from './nats.js';
export type { NatsBusOptions } from './nats.js';
export type { BusLogger } from './bus-logger.js';
export { batchHandler, type BatchHandler, type BatchHandlerOptions } from './batch-handler.js';
