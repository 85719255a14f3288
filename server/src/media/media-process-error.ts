/** The external media tools we spawn. */
export const MEDIA_TOOLS = ['ffmpeg', 'ffprobe'] as const;
export type MediaTool = (typeof MEDIA_TOOLS)[number];

/** Why a media process failed: it exited non-zero, ran past its time limit, was aborted, could not start, or wrote too much. */
export const MEDIA_FAILURE_KINDS = ['exit', 'timeout', 'aborted', 'spawn', 'output_too_large'] as const;
export type MediaFailureKind = (typeof MEDIA_FAILURE_KINDS)[number];

/**
 * An ffmpeg/ffprobe run that did not succeed. Internal (not API-facing): moderation turns it
 * into a recorded rejection reason, the transcode worker into a failed job. `stderrTail` is the
 * last few KiB of the tool's stderr, for logs and reasons.
 */
export class MediaProcessError extends Error {
  readonly tool: MediaTool;
  readonly kind: MediaFailureKind;
  /** Exit code, or null when the process was killed by a signal or never started. */
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(
    details: { tool: MediaTool; kind: MediaFailureKind; exitCode: number | null; stderrTail: string },
    options?: { cause?: unknown },
  ) {
    const lastLine = details.stderrTail.trim().split('\n').at(-1) ?? '';
    super(
      `${details.tool} ${describeFailure(details.kind, details.exitCode)}${lastLine ? `: ${lastLine}` : ''}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'MediaProcessError';
    this.tool = details.tool;
    this.kind = details.kind;
    this.exitCode = details.exitCode;
    this.stderrTail = details.stderrTail;
  }
}

function describeFailure(kind: MediaFailureKind, exitCode: number | null): string {
  switch (kind) {
    case 'exit':
      return `exited with code ${exitCode ?? 'unknown'}`;
    case 'timeout':
      return 'timed out and was killed';
    case 'aborted':
      return 'was aborted';
    case 'spawn':
      return 'could not be started';
    case 'output_too_large':
      return 'wrote more output than allowed and was killed';
  }
}
