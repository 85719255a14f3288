/** schema.org `VideoObject` of a replay (a finished broadcast), as Google documents for videos. */
export interface ReplayJsonLd {
  readonly '@context': 'https://schema.org';
  readonly '@type': 'VideoObject';
  readonly name: string;
  readonly description: string;
  readonly uploadDate: string;
  readonly contentUrl: string;
  readonly thumbnailUrl?: string;
  readonly duration?: string;
}

/**
 * Seconds as an ISO 8601 duration, `PT#H#M#S` (zero parts left out, `PT0S` for nothing):
 * the form schema.org's `duration` takes. Whole seconds, rounded.
 */
export function isoDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  const parts = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${rest || total === 0 ? `${rest}S` : ''}`;
  return `PT${parts}`;
}

/** What a replay's JSON-LD is made of; URLs absolute. */
export interface ReplayJsonLdInput {
  readonly name: string;
  readonly description: string;
  readonly uploadDate: string;
  readonly contentUrl: string;
  readonly thumbnailUrl?: string | undefined;
  readonly durationSeconds?: number | undefined;
}

/** The replay's `VideoObject`; pure, serialize with `serializeJsonLd` for an inline script. */
export function replayJsonLd(input: ReplayJsonLdInput): ReplayJsonLd {
  return {
    '@context': 'https://schema.org',
    '@type': 'VideoObject',
    name: input.name,
    description: input.description,
    uploadDate: input.uploadDate,
    contentUrl: input.contentUrl,
    ...(input.thumbnailUrl !== undefined ? { thumbnailUrl: input.thumbnailUrl } : {}),
    ...(input.durationSeconds !== undefined ? { duration: isoDuration(input.durationSeconds) } : {}),
  };
}
