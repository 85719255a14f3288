export { ChannelRegistry, type UpsertResult } from './channel-registry.js';
export { channelInputSchema, channelConfigSchema, type ChannelConfig, type ChannelInput } from './channel-config.js';
