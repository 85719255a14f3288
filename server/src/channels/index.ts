export { ChannelRegistry, type UpsertResult } from './channel-registry.js';
export {
  channelInputSchema,
  channelConfigSchema,
  UPLOAD_POLICIES,
  DEFAULT_UPLOAD_POLICY,
  type ChannelConfig,
  type ChannelInput,
  type UploadPolicy,
} from './channel-config.js';
