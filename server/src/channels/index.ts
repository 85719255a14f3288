export { ChannelRegistry, LINKED_PROVIDERS, linkedAccount, type LinkedProvider, type UpsertResult } from './channel-registry.js';
export {
  channelInputSchema,
  channelConfigSchema,
  channelOriginLimitsInputSchema,
  type ChannelOriginLimitsInput,
  UPLOAD_POLICIES,
  DEFAULT_UPLOAD_POLICY,
  VOD_POLICIES,
  DEFAULT_VOD_POLICY,
  type VodPolicy,
  type ChannelConfig,
  type TwitchLinkConfig,
  type ChannelInput,
  type UploadPolicy,
} from './channel-config.js';
