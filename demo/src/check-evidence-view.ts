import { createElement } from './create-element.js';
import type { CheckEvidence, EvidenceFrame } from './moderation-api.js';

/** Every word the evidence of a check shows, in one place. */
export const EVIDENCE_LABELS = {
  scores: 'Scores',
  score: (value: number) => value.toFixed(2),
  match: 'Matched audio reference',
  matchSpan: (clipFrom: number, clipTo: number, refFrom: number, refTo: number) =>
    `this upload ${seconds(clipFrom)}–${seconds(clipTo)} matches the reference ${seconds(refFrom)}–${seconds(refTo)}`,
  matchScore: (score: number) => `match score ${score.toFixed(2)}`,
  untitledReference: 'Untitled reference',
  frames: 'Flagged frames (blurred: select one to reveal it, again to blur it)',
  frameAt: (t: number, label: string | null, score: number | null) =>
    [`Frame at ${seconds(t)}`, ...(label === null ? [] : [label]), ...(score === null ? [] : [score.toFixed(2)])].join(' · '),
  frameUnavailable: 'not available',
} as const;

function seconds(value: number): string {
  return `${value.toFixed(1)} s`;
}

/** Fetches an evidence image with the moderator's token; the view shows it from a `blob:` URL. */
export type EvidenceLoader = (frame: EvidenceFrame) => Promise<Blob>;

/**
 * What one check found, for the reviewer to decide in seconds: its scores, the audio reference
 * it matched (which part of the upload matches which part of the reference), and its flagged
 * frames as thumbnails. Thumbnails are blurred until the reviewer asks (a toggle button: click,
 * Enter or Space), for the reviewer's sake. Rendered with DOM APIs only; the view owns the
 * `blob:` URLs of its thumbnails and revokes them in `dispose()`.
 */
export class CheckEvidenceView {
  readonly element: HTMLElement | undefined;
  private readonly urls: string[] = [];
  private disposed = false;

  constructor(
    evidence: CheckEvidence,
    private readonly load: EvidenceLoader,
  ) {
    const parts: HTMLElement[] = [];
    if (evidence.scores.length > 0) {
      parts.push(
        createElement(
          'dl',
          { className: 'evidence-scores', attributes: { 'aria-label': EVIDENCE_LABELS.scores } },
          ...evidence.scores.flatMap(([label, score]) => [createElement('dt', { text: label }), createElement('dd', { text: EVIDENCE_LABELS.score(score) })]),
        ),
      );
    }
    if (evidence.match) {
      const { match } = evidence;
      parts.push(
        createElement(
          'p',
          { className: 'evidence-match' },
          createElement('strong', { text: `${EVIDENCE_LABELS.match}: ` }),
          createElement('cite', { text: match.title ?? EVIDENCE_LABELS.untitledReference }),
          `, ${EVIDENCE_LABELS.matchSpan(match.clipFromS, match.clipToS, match.referenceFromS, match.referenceToS)}, ${EVIDENCE_LABELS.matchScore(match.score)}`,
        ),
      );
    }
    if (evidence.frames.length > 0) {
      parts.push(
        createElement('p', { className: 'evidence-frames-label', text: EVIDENCE_LABELS.frames }),
        createElement('ul', { className: 'evidence-frames' }, ...evidence.frames.map((frame) => createElement('li', {}, this.thumbnail(frame)))),
      );
    }
    this.element = parts.length > 0 ? createElement('div', { className: 'evidence' }, ...parts) : undefined;
  }

  /** Stops showing the thumbnails and revokes their `blob:` URLs. */
  dispose(): void {
    this.disposed = true;
    for (const url of this.urls.splice(0)) URL.revokeObjectURL(url);
  }

  /** A toggle button around the image: blurred (`aria-pressed="false"`) until pressed. */
  private thumbnail(frame: EvidenceFrame): HTMLButtonElement {
    const description = EVIDENCE_LABELS.frameAt(frame.t, frame.label, frame.score);
    // The caption names the button; the picture adds nothing a screen reader could say.
    const image = createElement('img', { attributes: { alt: '', width: '160', height: '90', decoding: 'async' } });
    const caption = createElement('span', { className: 'evidence-frame-caption', text: description });
    const button = createElement('button', { className: 'evidence-frame', attributes: { type: 'button', 'aria-pressed': 'false' } }, image, caption);
    button.addEventListener('click', () => button.setAttribute('aria-pressed', button.getAttribute('aria-pressed') === 'true' ? 'false' : 'true'));
    this.load(frame).then(
      (blob) => {
        if (this.disposed) return;
        const url = URL.createObjectURL(blob);
        this.urls.push(url);
        image.src = url;
      },
      (error: unknown) => {
        console.warn('moderation page: evidence image', error);
        caption.textContent = `${description} (${EVIDENCE_LABELS.frameUnavailable})`;
        button.setAttribute('aria-disabled', 'true');
      },
    );
    return button;
  }
}
