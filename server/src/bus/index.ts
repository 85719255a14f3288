export * from './bus.js';
export { encodeJson, decodeJson, decodeText } from './json.js';
export { SUBJECTS, STREAMS, BUCKETS, CONSUMERS } from './subjects.js';
export { createMemoryBus } from './memory.js';
export { createNatsBus } from './nats.js';
