/**
 * Our own origin (issue 23): WHIP sessions terminated in this process (werift), their RTP made
 * into a live HLS ladder by ffmpeg, the session records on the bus. `WhipOrigin` is the
 * service; `origin-session.ts` the contract with the rest of the product (`OriginSignals`,
 * `LiveHlsSink`).
 */
export * from './origin-session.js';
export { OriginSessions, ChannelAlreadyLiveError, originSessionKey, ORIGIN_SESSIONS_BUCKET, ORIGIN_SESSION_RECORD_TTL_MS, type ClaimRequest } from './origin-sessions.js';
export { GoLiveGrantLedger, USED_GO_LIVE_GRANTS_BUCKET } from './go-live-grant-ledger.js';
export { inspectWhipOffer, MAX_OFFER_MEDIA_SECTIONS, type InspectedOffer, type OfferInspection, type OfferSummary, type OfferVideoCodec } from './whip-offer.js';
export { recordOriginMetrics, ORIGIN_SESSIONS_METRIC, ORIGIN_LADDER_SHEDS_METRIC } from './origin-metrics.js';
export { WhipOrigin, GrantAlreadyUsedError, replicaToken, type OfferRequest, type OriginCollaborators, type WhipOriginDeps } from './whip-origin.js';
export { KeyframeRequestSchedule, DEFAULT_KEYFRAME_REQUEST_OPTIONS, ffmpegReportsDamage, type KeyframeRequestOptions, type KeyframeRequestReason } from './keyframe-requests.js';
export { effectiveOriginLimits, originLimitsAboveCeiling, type ChannelOriginLimits, type OriginLimitCeiling } from './origin-limits.js';
export { WhipSession, UnanswerableOfferError, withBitrateCeiling, audioShareKbps, type WhipSessionDeps, type WhipSessionLimits } from './whip-session.js';
export { planLiveLadder, liveLadderFfmpegArgs, rtpInputSdp, DEFAULT_LIVE_LADDER_OPTIONS, LIVE_LADDER_FILES, type LiveLadderOptions } from './live-ladder.js';
export { LiveHlsWatcher, playlistUris } from './live-hls-watcher.js';
