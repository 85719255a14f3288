import { html, LitElement, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { createLiveEvent } from '../events.js';
import { LangController } from '../lang-controller.js';
import { formatLabel } from '../labels.js';
import { formatSeconds, resolveUploadLabels, type LiveUploadLabels } from '../live-upload/upload-labels.js';
import { styleProperties } from '../style-properties.js';
import { drawFilmstrip } from './filmstrip.js';
import { trimRangeStyles } from './trim-range.styles.js';

type Thumb = 'start' | 'end';

/** One arrow key moves a thumb this far; Page Up / Page Down ten times as far. */
const STEP_MS = 100;
const PAGE_MS = 1000;
const FRAMES = 8;

/**
 * @summary One range with two thumbs that selects the part of a clip to keep, over a filmstrip of it.
 *
 * Two `role="slider"` thumbs (Start, End) whose `aria-valuetext` says seconds with tenths in the
 * page's language; arrows move a thumb 0.1 s, Page Up / Page Down 1 s, Home / End to the nearest
 * limit; a pointer drags a thumb, or moves the nearer one to where the track was pressed. The
 * thumbs never come closer than `min-length`. The kept part is outlined and the rest dimmed;
 * the selected length shows (and is read) as it changes. Modelled on media-chrome's
 * `media-clip-selector`, with the keyboard and ARIA it lacks.
 *
 * @event live-trim-change - The selection moved. `detail: { startMs, endMs }`.
 *
 * @csspart range - Everything.
 * @csspart legend - The group's name ("Trim").
 * @csspart track - The track the thumbs run on.
 * @csspart filmstrip - The frames under the track (canvases).
 * @csspart selection - The outline of the kept part.
 * @csspart outside - The dimmed parts before and after it.
 * @csspart thumb - Both thumbs; `start` and `end` name each.
 * @csspart times - The start, length and end line.
 * @csspart length - The selected length ("4.5 s selected").
 *
 * @cssproperty --live-accent-color - Thumbs and the outline. Default #1a56db.
 * @cssproperty --live-accent-text-color - The grip on the thumbs. Default #fff.
 * @cssproperty --live-focus-color - The focus ring. Default #1a56db.
 * @cssproperty --live-track-color - Under the filmstrip. Default #e0e0e0.
 * @cssproperty --live-radius - Corner radius. Default 0.25em.
 */
export class LiveTrimRange extends LitElement {
  static override styles = trimRangeStyles;

  static override properties: PropertyDeclarations = {
    duration: { type: Number },
    start: { type: Number },
    end: { type: Number },
    minLength: { type: Number, attribute: 'min-length' },
    src: {},
    labels: { attribute: false },
  };

  /** The media's length, ms. */
  duration = 0;
  /** The kept part's start, ms. */
  start = 0;
  /** The kept part's end, ms. */
  end = 0;
  /** The shortest part that may be kept, ms. */
  minLength = 500;
  /** The media, for the filmstrip (a `blob:` URL of the clip). */
  src = '';
  /** Overrides for the labels chosen from `lang` (`trim`, `trimStart`, `trimEnd`, `trimmedLength`). */
  labels: Partial<LiveUploadLabels> = {};

  #lang = new LangController(this);
  #dragging: Thumb | undefined;
  #filmstrip: AbortController | undefined;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#filmstrip?.abort();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('src') || changed.has('duration')) {
      this.#filmstrip?.abort();
      const controller = new AbortController();
      this.#filmstrip = controller;
      const canvases = [...this.renderRoot.querySelectorAll('canvas')];
      void drawFilmstrip(this.src, this.duration, canvases, controller.signal);
    }
  }

  /** Moves one thumb to `ms`, within the media and never closer to the other than `minLength`; fires `live-trim-change`. */
  #move(thumb: Thumb, ms: number): void {
    const rounded = Math.round(ms / STEP_MS) * STEP_MS;
    const gap = Math.min(this.minLength, this.duration);
    const next =
      thumb === 'start' ? Math.max(0, Math.min(rounded, this.end - gap)) : Math.min(this.duration, Math.max(rounded, this.start + gap));
    if (next === this[thumb]) return;
    this[thumb] = next;
    this.dispatchEvent(createLiveEvent('live-trim-change', { startMs: this.start, endMs: this.end }));
  }

  #onKey(thumb: Thumb, event: KeyboardEvent): void {
    const at = this[thumb];
    const gap = Math.min(this.minLength, this.duration);
    const moves: Readonly<Record<string, number>> = {
      ArrowLeft: at - STEP_MS,
      ArrowDown: at - STEP_MS,
      ArrowRight: at + STEP_MS,
      ArrowUp: at + STEP_MS,
      PageDown: at - PAGE_MS,
      PageUp: at + PAGE_MS,
      Home: thumb === 'start' ? 0 : this.start + gap,
      End: thumb === 'start' ? this.end - gap : this.duration,
    };
    if (!Object.hasOwn(moves, event.key)) return;
    event.preventDefault();
    this.#move(thumb, moves[event.key]!);
  }

  /** The time under a pointer on the track. */
  #msAt(event: PointerEvent): number {
    const track = this.renderRoot.querySelector<HTMLElement>('[part="track"]')!.getBoundingClientRect();
    return (Math.max(0, Math.min(1, (event.clientX - track.left) / (track.width || 1))) * this.duration);
  }

  #onPointerDown(event: PointerEvent): void {
    if (event.button !== 0 || !(this.duration > 0)) return;
    const target = event.target as HTMLElement;
    const ms = this.#msAt(event);
    const thumb: Thumb = target.dataset['thumb'] === 'start' || target.dataset['thumb'] === 'end' ? target.dataset['thumb'] : Math.abs(ms - this.start) <= Math.abs(ms - this.end) ? 'start' : 'end';
    this.#dragging = thumb;
    (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
    this.renderRoot.querySelector<HTMLElement>(`[data-thumb="${thumb}"]`)?.focus();
    if (target.dataset['thumb'] === undefined) this.#move(thumb, ms);
    event.preventDefault();
  }

  #onPointerMove(event: PointerEvent): void {
    if (this.#dragging) this.#move(this.#dragging, this.#msAt(event));
  }

  #onPointerUp(): void {
    this.#dragging = undefined;
  }

  protected override render(): TemplateResult {
    const labels = { ...resolveUploadLabels(this.#lang.lang), ...this.labels };
    const lang = this.#lang.lang;
    const seconds = (ms: number) => `${formatSeconds(ms, lang)} s`;
    const duration = this.duration > 0 ? this.duration : 1;
    const percent = (ms: number) => `${(Math.max(0, Math.min(ms, duration)) / duration) * 100}%`;
    const gap = Math.min(this.minLength, this.duration);
    const thumb = (which: Thumb, label: string, min: number, max: number) =>
      html`<div part="thumb ${which}" data-thumb=${which} role="slider" tabindex="0" aria-label=${label} aria-valuemin=${(min / 1000).toFixed(1)}
        aria-valuemax=${(max / 1000).toFixed(1)} aria-valuenow=${(this[which] / 1000).toFixed(1)} aria-valuetext=${seconds(this[which])}
        @keydown=${(event: KeyboardEvent) => this.#onKey(which, event)}></div>`;
    return html`<div part="range" role="group" aria-labelledby="legend">
      <p part="legend" id="legend">${labels.trim}</p>
      <div part="track" ${styleProperties({ '--_start': percent(this.start), '--_end': percent(this.end) })}
        @pointerdown=${(event: PointerEvent) => this.#onPointerDown(event)} @pointermove=${(event: PointerEvent) => this.#onPointerMove(event)}
        @pointerup=${() => this.#onPointerUp()} @pointercancel=${() => this.#onPointerUp()}>
        <div part="filmstrip" aria-hidden="true">${Array.from({ length: FRAMES }, () => html`<canvas></canvas>`)}</div>
        <div part="outside" ${styleProperties({ width: percent(this.start) })}></div>
        <div part="outside" class="after" ${styleProperties({ width: `calc(100% - ${percent(this.end)})` })}></div>
        <div part="selection"></div>
        ${thumb('start', labels.trimStart, 0, this.end - gap)} ${thumb('end', labels.trimEnd, this.start + gap, this.duration)}
      </div>
      <p part="times">
        <span>${labels.trimStart} ${seconds(this.start)}</span>
        <span part="length">${formatLabel(labels.trimmedLength, { seconds: formatSeconds(this.end - this.start, lang) })}</span>
        <span>${labels.trimEnd} ${seconds(this.end)}</span>
      </p>
    </div>`;
  }
}
