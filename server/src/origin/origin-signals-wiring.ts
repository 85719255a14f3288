import type { Logger } from '../observability/index.js';
import type { RawEventSink } from '../provider-adapter/index.js';
import type { ObjectStore } from '../storage/index.js';
import { LiveHlsMirror } from './live-hls-mirror.js';
import { originKeyPrefix, type LiveHlsSink, type OriginSession, type OriginSignals } from './origin-session.js';
import { OriginSignalPublisher } from './origin-signals.js';

/**
 * What a WHIP session of our origin is connected to in production: its ladder mirrored into the
 * media store under `originKeyPrefix` (served by every replica at `/origin/...`, kept until the
 * replay is made from it), and its start and end published as raw events `provider: 'origin'`
 * into the pipeline's front door. The composition root's default for `StartOptions.origin`.
 */
export function productOriginCollaborators(parts: { readonly media: ObjectStore; readonly ingest: RawEventSink; readonly logger: Logger }): {
  readonly sinkFor: (session: OriginSession) => LiveHlsSink;
  readonly signals: OriginSignals;
} {
  return {
    sinkFor: (session) => new LiveHlsMirror(parts.media, originKeyPrefix(session.channel, session.session_id), { logger: parts.logger }),
    signals: new OriginSignalPublisher(parts.ingest),
  };
}
