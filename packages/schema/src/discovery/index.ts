export { channelPageUrl, describeChannelPage, oEmbedEndpointUrl, parseChannelPageUrl, type ChannelPage, type ChannelPageInput, type Poster } from './channel-page.js';
export { channelJsonLd, type BroadcastEventJsonLd, type VideoObjectJsonLd } from './json-ld.js';
export { serializeJsonLd } from './json-ld-serialize.js';
export { openGraphTags, type MetaTag } from './open-graph.js';
export { channelOEmbed, oEmbedSize, OEMBED_CACHE_AGE_SECONDS, OEMBED_DEFAULT_SIZE, type OEmbedBounds, type OEmbedResponse } from './oembed.js';
export { escapeHtml } from './escape-html.js';
