/**
 * The moderation API as the demo's moderation page uses it: same origin only, the token in the
 * `Authorization` header and never in a URL, every response parsed from `unknown` into the
 * types below (anything unexpected becomes a `ModerationApiError`, never a rendered surprise).
 */

/** Upload ids are ULIDs; nothing else is ever put into a request path. */
const UPLOAD_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** What the server accepts after `Bearer ` (printable ASCII, as `moderatorActor` reads it). */
const BEARER_TOKEN = /^[\x21-\x7e]{1,512}$/;

/** `approve_blurred`: approved, published with every face blurred (the quarantined original stays as it is). */
export const MODERATOR_DECISIONS = ['approve', 'approve_blurred', 'reject'] as const;
export type ModeratorDecision = (typeof MODERATOR_DECISIONS)[number];

/** Evidence file names as the server serves them: one segment, an image extension (`evidenceImageType` on the server). */
const EVIDENCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,95}(?:\.[A-Za-z0-9_-]{1,16})*\.(jpe?g|png|webp)$/;
/** At most this many of a check's scores and frames are shown: a hostile or broken answer cannot flood the page. */
const MAX_SCORES = 12;
const MAX_FRAMES = 24;

/** A frame a vision check flagged: its evidence file's name (under the upload's evidence prefix), where in the clip, why. */
export interface EvidenceFrame {
  readonly uploadId: string;
  readonly name: string;
  readonly t: number;
  readonly label: string | null;
  readonly score: number | null;
}

/** The audio reference a fingerprint matched, and which span of the upload matched which span of it. */
export interface AudioMatch {
  readonly referenceId: string;
  readonly title: string | null;
  readonly score: number;
  readonly clipFromS: number;
  readonly clipToS: number;
  readonly referenceFromS: number;
  readonly referenceToS: number;
}

/** What a check found, as far as the page can show it: per-label scores, an audio match, flagged frames. */
export interface CheckEvidence {
  readonly scores: ReadonlyArray<readonly [string, number]>;
  readonly match: AudioMatch | null;
  readonly frames: readonly EvidenceFrame[];
}

export interface ModerationCheck {
  readonly name: string;
  readonly result: string;
  /** The check's reason, in words (for moderators). */
  readonly detail: string | null;
  /** Its structured facts (probe summary, blocklist hits), shown only as technical detail. */
  readonly details: Readonly<Record<string, unknown>> | null;
  /** What of `details` is shown as evidence. */
  readonly evidence: CheckEvidence;
}

/** What the media probe found: the clip's length and picture size, when it could tell. */
export interface ProbedMedia {
  readonly durationS: number | null;
  readonly width: number | null;
  readonly height: number | null;
}

export interface QueuedUpload {
  readonly uploadId: string;
  readonly channel: string;
  readonly source: string;
  readonly filename: string;
  readonly type: string;
  readonly size: number;
  readonly title: string | null;
  readonly clip: { readonly canonicalId: string; readonly fromS: number; readonly toS: number } | null;
  /** Where in a broadcast the upload comes from: its canonical id and program time, ISO 8601. */
  readonly provenance: { readonly canonicalId: string; readonly from: string; readonly to: string } | null;
  readonly checks: readonly ModerationCheck[];
  /** From the `media-probe` check's facts. */
  readonly media: ProbedMedia;
  /** When the upload finished (or was created, if it never finished), ISO 8601. */
  readonly uploadedAt: string;
  /** The moderation rules the checks ran with: their version and whose (`default` or the channel); null when not recorded. */
  readonly policy: { readonly version: number; readonly scope: string } | null;
}

/** A failed call: `status` is the HTTP status (0 when the request never got an answer). */
export class ModerationApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ModerationApiError';
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** The token as typed, trimmed; undefined when the server could never accept it. */
export function parseBearerToken(typed: string): string | undefined {
  const token = typed.trim();
  return BEARER_TOKEN.test(token) ? token : undefined;
}

export function isUploadId(value: string): boolean {
  return UPLOAD_ID.test(value);
}

/** The same-origin path of one evidence image of an upload. */
export function evidencePath(frame: EvidenceFrame): string {
  if (!isUploadId(frame.uploadId) || !EVIDENCE_NAME.test(frame.name)) throw new ModerationApiError(0, 'not an evidence file');
  return `/api/v1/moderation/${frame.uploadId}/evidence/${frame.name}`;
}

/** The same-origin preview path of an upload (the queue's absolute `preview_url` may name another host). */
export function previewPath(uploadId: string): string {
  if (!isUploadId(uploadId)) throw new ModerationApiError(0, 'not an upload id');
  return `/api/v1/moderation/${uploadId}/media`;
}

export class ModerationApi {
  constructor(private readonly token: string) {}

  async queue(signal?: AbortSignal): Promise<QueuedUpload[]> {
    const body = await this.request('/api/v1/moderation/queue', { signal });
    const uploads = isRecord(body) && Array.isArray(body['uploads']) ? body['uploads'] : undefined;
    if (!uploads) throw new ModerationApiError(200, 'the queue answer was not understood');
    return uploads.flatMap((entry) => {
      const upload = parseQueuedUpload(entry);
      return upload ? [upload] : [];
    });
  }

  /**
   * Channel names (`acme/morning-show` -> `Acme Morning Show`) from the public discovery index,
   * so the queue shows names; a channel it does not list keeps its handle.
   */
  async channelNames(signal?: AbortSignal): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const response = await fetch('/api/v1/streams?limit=100', { signal, credentials: 'omit', referrerPolicy: 'no-referrer' }).catch(() => undefined);
    const body = response?.ok ? ((await response.json().catch(() => undefined)) as unknown) : undefined;
    const items = isRecord(body) && Array.isArray(body['items']) ? body['items'] : [];
    for (const item of items) {
      const channel = isRecord(item) ? text(item['channel']) : undefined;
      const name = isRecord(item) ? text(item['channel_name']) : undefined;
      if (channel !== undefined && name !== undefined && name.trim() !== '') names.set(channel, name);
    }
    return names;
  }

  /** The quarantined file, fetched with the token, as a Blob for a `blob:` URL. */
  async preview(uploadId: string, signal?: AbortSignal): Promise<Blob> {
    const response = await this.send(previewPath(uploadId), { signal });
    return response.blob();
  }

  /** A flagged frame, fetched with the token, as a Blob for a `blob:` URL. */
  async evidence(frame: EvidenceFrame, signal?: AbortSignal): Promise<Blob> {
    const response = await this.send(evidencePath(frame), { signal });
    return response.blob();
  }

  async decide(uploadId: string, decision: ModeratorDecision, reason: string | undefined): Promise<{ status: string }> {
    if (!isUploadId(uploadId)) throw new ModerationApiError(0, 'not an upload id');
    const body = await this.request(`/api/v1/moderation/${uploadId}/decision`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(reason === undefined ? { decision } : { decision, reason }),
    });
    return { status: isRecord(body) && typeof body['status'] === 'string' ? body['status'] : 'unknown' };
  }

  private async request(path: string, init: RequestInit): Promise<unknown> {
    const response = await this.send(path, init);
    try {
      return (await response.json()) as unknown;
    } catch {
      throw new ModerationApiError(response.status, 'the server answered something other than JSON');
    }
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${this.token}`);
    let response: Response;
    try {
      response = await fetch(path, {
        ...init,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ModerationApiError(0, 'the server could not be reached');
    }
    if (!response.ok) throw new ModerationApiError(response.status, await errorMessage(response));
    return response;
  }
}

async function errorMessage(response: Response): Promise<string> {
  const fallback = `the server answered ${response.status}`;
  try {
    const body = (await response.json()) as unknown;
    const error = isRecord(body) && isRecord(body['error']) ? body['error'] : undefined;
    return typeof error?.['message'] === 'string' ? error['message'] : fallback;
  } catch {
    return fallback;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const finite = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** The numbers of a `{ label: score }` record, in its order. */
function labelScores(value: unknown): Array<readonly [string, number]> {
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([label, score]) => {
    const number = finite(score);
    return number === null ? [] : [[label, number] as const];
  });
}

/**
 * The scores worth a glance: the check's highest score (`details.max_score`), then the per-label
 * scores of its worst frame (the nudity check's `worst_frames[0]`, looked up in `frames`), or a
 * check's own `details.scores` / `details.score`. Numbers only.
 */
function parseScores(details: Readonly<Record<string, unknown>>): Array<readonly [string, number]> {
  const scores: Array<readonly [string, number]> = [];
  const highest = finite(details['max_score']);
  if (highest !== null) scores.push(['highest score', highest]);
  const worst = Array.isArray(details['worst_frames']) && isRecord(details['worst_frames'][0]) ? finite(details['worst_frames'][0]['t']) : null;
  const frames = Array.isArray(details['frames']) ? details['frames'] : [];
  const worstFrame = worst === null ? undefined : frames.find((frame): frame is Record<string, unknown> => isRecord(frame) && frame['t'] === worst);
  scores.push(...labelScores(worstFrame?.['scores']), ...labelScores(details['scores']));
  const single = finite(details['score']);
  if (single !== null) scores.push(['score', single]);
  return scores.slice(0, MAX_SCORES);
}

/** `details.match`: the matched reference, when every span end is a number. */
function parseMatch(value: unknown): AudioMatch | null {
  if (!isRecord(value)) return null;
  const referenceId = text(value['reference_id']);
  const [score, clipFromS, clipToS, referenceFromS, referenceToS] = ['score', 'clip_from_s', 'clip_to_s', 'reference_from_s', 'reference_to_s'].map((key) => finite(value[key]));
  if (referenceId === undefined || score == null || clipFromS == null || clipToS == null || referenceFromS == null || referenceToS == null) return null;
  return { referenceId, title: text(value['title']) ?? null, score, clipFromS, clipToS, referenceFromS, referenceToS };
}

/**
 * `details.evidence: [{ key, t, label, score }]`: the frames the check wrote under
 * `evidence/{upload_id}/`. A key outside that prefix, or a name the server would not serve, is left out.
 */
function parseFrames(uploadId: string, value: unknown): EvidenceFrame[] {
  if (!Array.isArray(value)) return [];
  const prefix = `evidence/${uploadId}/`;
  return value
    .flatMap((entry): EvidenceFrame[] => {
      if (!isRecord(entry)) return [];
      const key = text(entry['key']);
      const t = finite(entry['t']);
      const name = key?.startsWith(prefix) ? key.slice(prefix.length) : key;
      if (name === undefined || t === null || !EVIDENCE_NAME.test(name)) return [];
      return [{ uploadId, name, t, label: text(entry['label']) ?? null, score: finite(entry['score']) }];
    })
    .slice(0, MAX_FRAMES);
}

function parseCheck(uploadId: string, value: unknown): ModerationCheck | undefined {
  if (!isRecord(value)) return undefined;
  const name = text(value['name']);
  const result = text(value['result']);
  if (name === undefined || result === undefined) return undefined;
  const details = isRecord(value['details']) ? value['details'] : null;
  const evidence: CheckEvidence = details
    ? { scores: parseScores(details), match: parseMatch(details['match']), frames: parseFrames(uploadId, details['evidence']) }
    : { scores: [], match: null, frames: [] };
  return { name, result, detail: text(value['detail']) ?? null, details, evidence };
}

function parsePolicy(value: unknown): QueuedUpload['policy'] {
  if (!isRecord(value)) return null;
  const version = finite(value['policy_version']);
  const scope = text(value['policy_scope']);
  return version === null || scope === undefined ? null : { version, scope };
}

const positive = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null);

/** The length and picture size the media probe reported, as far as they are numbers. */
function probedMedia(checks: readonly ModerationCheck[]): ProbedMedia {
  const facts = checks.find((check) => check.name === 'media-probe')?.details;
  const streams = Array.isArray(facts?.['streams']) ? facts['streams'] : [];
  const video = streams.find((stream): stream is Record<string, unknown> => isRecord(stream) && stream['kind'] === 'video');
  return { durationS: positive(facts?.['duration_s']), width: positive(video?.['width']), height: positive(video?.['height']) };
}

function parseClip(value: unknown): QueuedUpload['clip'] {
  if (!isRecord(value)) return null;
  const canonicalId = text(value['canonical_id']);
  const fromS = value['from_s'];
  const toS = value['to_s'];
  if (canonicalId === undefined || typeof fromS !== 'number' || typeof toS !== 'number') return null;
  return { canonicalId, fromS, toS };
}

function parseProvenance(value: unknown): QueuedUpload['provenance'] {
  if (!isRecord(value)) return null;
  const canonicalId = text(value['canonical_id']);
  const from = text(value['from']);
  const to = text(value['to']);
  if (canonicalId === undefined || from === undefined || to === undefined) return null;
  return { canonicalId, from, to };
}

/** One queue entry, or undefined when it lacks what the page needs (it is then left out). */
function parseQueuedUpload(value: unknown): QueuedUpload | undefined {
  if (!isRecord(value)) return undefined;
  const uploadId = text(value['upload_id']);
  const channel = text(value['channel']);
  const source = text(value['source']);
  const filename = text(value['filename']);
  const type = text(value['type']);
  const size = value['size'];
  const uploadedAt = text(value['completed_at']) ?? text(value['created_at']);
  if (uploadId === undefined || !isUploadId(uploadId)) return undefined;
  if (channel === undefined || source === undefined || filename === undefined || type === undefined || uploadedAt === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isFinite(size)) return undefined;
  const checks = Array.isArray(value['checks']) ? value['checks'].flatMap((check) => parseCheck(uploadId, check) ?? []) : [];
  return {
    uploadId,
    channel,
    source,
    filename,
    type,
    size,
    title: text(value['title']) ?? null,
    clip: parseClip(value['clip']),
    provenance: parseProvenance(value['provenance']),
    checks,
    media: probedMedia(checks),
    uploadedAt,
    policy: parsePolicy(value['moderation']),
  };
}
