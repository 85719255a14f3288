import { html, nothing, type TemplateResult } from 'lit';
import { formatLabel } from '../labels.js';
import { styleProperties } from '../style-properties.js';
import type { PendingUpload } from './pending-uploads.js';
import { percentOf, type UploadFlowController } from './upload-flow-controller.js';
import type { LiveUploadLabels } from './upload-labels.js';
import type { UploadSnapshot } from './upload-session.js';

/*
 * The upload's part of `<live-upload>`'s view: pure templates of `UploadFlowController`'s state
 * (the component composes them in its render). Text is rendered escaped, as everywhere.
 */

/** An accessible progress bar whose fill is set through the CSSOM (a strict CSP refuses `style="..."`). */
export function progressBar(label: string, percent: number, valueText?: string): TemplateResult {
  return html`<div part="progress" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${percent}
    aria-valuetext=${valueText ?? nothing}><span ${styleProperties({ width: `${percent}%` })}></span></div>`;
}

/** The upload being sent: the bar, Uppy's bytes-speed-time-left line, Pause / Resume / Cancel. */
export function uploadTemplate(labels: LiveUploadLabels, snapshot: UploadSnapshot, flow: UploadFlowController): TemplateResult {
  const { phase } = snapshot;
  const sending = phase === 'requesting' || phase === 'uploading' || phase === 'offline';
  const ended = phase === 'checking' || phase === 'in_review' || phase === 'published' || phase === 'rejected' || phase === 'failed' || phase === 'cancelled';
  return html`${progressBar(labels.uploadProgress, percentOf(snapshot), phase === 'requesting' ? undefined : `${percentOf(snapshot)}%`)}
    ${flow.detail ? html`<p part="progress-detail">${flow.detail}</p>` : nothing}
    <div part="controls">
      ${sending ? html`<button type="button" data-action="pause" ?disabled=${phase !== 'uploading'} @click=${() => flow.pause()}>${labels.pause}</button>` : nothing}
      ${phase === 'paused' ? html`<button type="button" class="primary" data-action="resume" @click=${() => flow.resume()}>${labels.resume}</button>` : nothing}
      ${ended ? nothing : html`<button type="button" data-action="cancel" @click=${() => flow.cancel()}>${labels.cancel}</button>`}
      ${ended ? html`<button type="button" data-action="done" @click=${() => flow.done()}>${labels.done}</button>` : nothing}
    </div>`;
}

/** The upload whose bytes are all in: a full bar, the clip once published, Done (the server's word is in the status line). */
export function lastUploadTemplate(labels: LiveUploadLabels, snapshot: UploadSnapshot, flow: UploadFlowController): TemplateResult {
  const arrived = snapshot.phase !== 'failed' && snapshot.phase !== 'cancelled';
  return html`<div part="upload-result">
    ${arrived ? progressBar(labels.uploadProgress, 100, '100%') : nothing}
    <div part="controls">
      ${snapshot.phase === 'published' && snapshot.mediaUrl
        ? html`<a part="clip-link" href=${snapshot.mediaUrl} target="_blank" rel="noopener">${labels.watchClip}</a>`
        : nothing}
      <button type="button" data-action="done" @click=${() => flow.done()}>${labels.done}</button>
    </div>
  </div>`;
}

/** Uploads stored before a reload: Resume or Discard each (three at most). */
export function pendingTemplate(labels: LiveUploadLabels, pending: readonly PendingUpload[], resume: (pending: PendingUpload) => void, flow: UploadFlowController): TemplateResult {
  return html`<div part="pending">
    ${pending.slice(0, 3).map(
      (entry) => html`<button type="button" class="primary" data-action="resume-stored" @click=${() => resume(entry)}>
          ${formatLabel(labels.resumeStored, { filename: entry.filename })}</button
        ><button type="button" data-action="discard-stored" @click=${() => void flow.discardStored(entry)}>${formatLabel(labels.discardStored, { filename: entry.filename })}</button>`,
    )}
  </div>`;
}
