import { html, nothing, type TemplateResult } from 'lit';
import type { LiveTrimChangeDetail } from '../events.js';
import { formatLabel } from '../labels.js';
import type { ReplayController } from './replay-controller.js';
import { AUTO_QUALITY } from './replay-player.js';
import type { LiveUploadLabels } from './upload-labels.js';

/** Trim handles on the replay never come closer than this. */
const MIN_REPLAY_CLIP_MS = 1000;

/*
 * The replay's part of `<live-upload>`'s view: pure templates of `ReplayController`'s state (the
 * component composes them in its render). Parts: `watch-replay` (the button), `replay` (the
 * `<video>`), `replay-controls`, `replay-quality` (the quality `<select>`), `replay-range` (the
 * trim handles over the replay's timeline).
 */

/**
 * The offline channel's replay: Watch the replay, or the replay playing with its quality menu
 * (a native `<select>`: keyboard and screen readers know it; a change is also announced in the
 * status line) and Clip from the replay, or the range being picked with Make clip / Cancel.
 */
export function replayTemplate(labels: LiveUploadLabels, channel: string, replay: ReplayController, options: { canClip: boolean; busy: boolean }): TemplateResult | typeof nothing {
  const info = replay.replay;
  if (!info) return nothing;
  if (!replay.watching) {
    return html`<div part="replay-controls">
      <button type="button" class="primary" part="watch-replay" data-action="watch-replay" @click=${() => replay.watch()}>${labels.watchReplay}</button>
    </div>`;
  }
  const range = replay.range;
  return html`<video part="replay" controls playsinline preload="metadata" poster=${info.poster ?? nothing} aria-label=${formatLabel(labels.replayPlayer, { channel })}></video>
    <div part="replay-controls">
      <label for="replay-quality">${labels.replayQuality}</label>
      <select id="replay-quality" part="replay-quality" ?disabled=${replay.rungs.length < 2}
        @change=${(event: Event) => replay.setQuality(Number((event.target as HTMLSelectElement).value))}>
        <option value=${AUTO_QUALITY} ?selected=${replay.quality === AUTO_QUALITY}>${replay.quality === AUTO_QUALITY && replay.playingLevel !== undefined
          ? `${labels.qualityAuto} (${replay.qualityName(replay.playingLevel)})`
          : labels.qualityAuto}</option>
        ${replay.rungs.map((rung) => html`<option value=${rung.level} ?selected=${replay.quality === rung.level}>${replay.qualityName(rung.level)}</option>`)}
      </select>
      ${options.canClip && !range
        ? html`<button type="button" data-action="replay-clip" ?disabled=${options.busy || !(replay.durationMs > 0)} @click=${() => replay.startClip()}>${labels.replayClip}</button>`
        : nothing}
    </div>
    ${range
      ? html`<div part="replay-clip" role="group" aria-label=${labels.replayRange}>
          <live-trim-range part="replay-range" exportparts="track: replay-range-track, thumb: replay-range-thumb, length: replay-range-length"
            .duration=${replay.durationMs} .start=${range.startMs} .end=${range.endMs} min-length=${MIN_REPLAY_CLIP_MS} .labels=${labels}
            @live-trim-change=${(event: CustomEvent<LiveTrimChangeDetail>) => replay.rangeChanged(event.detail)}></live-trim-range>
          <div part="controls">
            <button type="button" class="primary" data-action="replay-cut" @click=${() => void replay.cut()}>${labels.replayCut}</button>
            <button type="button" data-action="replay-cancel" @click=${() => replay.cancelRange()}>${labels.cancel}</button>
          </div>
        </div>`
      : nothing}`;
}
