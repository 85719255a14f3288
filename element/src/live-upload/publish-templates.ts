import { html, nothing, type TemplateResult } from 'lit';
import { formatLabel } from '../labels.js';
import { NO_MICROPHONE, SCREEN_SOURCE, type PublishController } from './publish-controller.js';
import type { PublishLabels } from './publish-labels.js';
import { formatBitrate } from './publish-stats.js';

/*
 * The publisher's part of `<live-upload publish>`: a pure template of `PublishController`'s
 * state. Native controls only (buttons, labelled selects, a <meter>), so keyboard and screen
 * reader work as everywhere; the state changes are announced in the element's status line,
 * not here (the connection line changes every second and is deliberately not a live region).
 */

const CONNECTION_WORDS = {
  new: 'publishStateNew',
  connecting: 'publishStateConnecting',
  connected: 'publishStateConnected',
  disconnected: 'publishStateDisconnected',
  failed: 'publishStateFailed',
  closed: 'publishStateClosed',
} as const satisfies Record<RTCPeerConnectionState, keyof PublishLabels>;

function connectionLine(labels: PublishLabels, publisher: PublishController, lang: string): TemplateResult | typeof nothing {
  if (!publisher.broadcasting) return nothing;
  const state = labels[CONNECTION_WORDS[publisher.connectionState ?? 'new']];
  const text =
    publisher.bitrate === undefined
      ? formatLabel(labels.publishConnection, { state })
      : formatLabel(labels.publishConnectionWithBitrate, { state, bitrate: formatBitrate(publisher.bitrate, lang) });
  return html`<p part="publish-connection">${text}</p>`;
}

function deviceOptions(devices: readonly { deviceId: string; label: string }[], chosen: string, numbered: string): TemplateResult[] {
  const listed = devices.length > 0 ? devices : [{ deviceId: '', label: '' }];
  return listed.map(
    (device, index) =>
      html`<option value=${device.deviceId} ?selected=${device.deviceId === chosen}>${device.label || formatLabel(numbered, { number: String(index + 1) })}</option>`,
  );
}

/** The preview, the source and microphone pickers, the level meter, the buttons and the connection line. */
export function publishTemplate(labels: PublishLabels, publisher: PublishController, lang: string): TemplateResult {
  const { state } = publisher;
  const busy = state === 'ending';
  const canShareScreen = 'getDisplayMedia' in (navigator.mediaDevices ?? {});
  return html`<div part="publish" role="group" aria-label=${labels.publishPanel}>
    ${publisher.stream
      ? html`<video part="publish-preview" muted autoplay playsinline .srcObject=${publisher.stream} aria-label=${labels.publishPreview}></video>`
      : nothing}
    <div part="publish-devices">
      <label for="publish-video">${labels.publishVideoSource}</label>
      <select id="publish-video" data-action="publish-video" ?disabled=${busy}
        @change=${(event: Event) => void publisher.chooseVideo((event.target as HTMLSelectElement).value)}>
        ${deviceOptions(publisher.cameras, publisher.videoChoice, labels.publishCameraNumbered)}
        ${canShareScreen ? html`<option value=${SCREEN_SOURCE} ?selected=${publisher.videoChoice === SCREEN_SOURCE}>${labels.publishScreen}</option>` : nothing}
      </select>
      <label for="publish-audio">${labels.publishMicrophone}</label>
      <select id="publish-audio" data-action="publish-audio" ?disabled=${busy}
        @change=${(event: Event) => void publisher.chooseAudio((event.target as HTMLSelectElement).value)}>
        ${deviceOptions(publisher.microphones, publisher.audioChoice, labels.publishMicrophoneNumbered)}
        <option value=${NO_MICROPHONE} ?selected=${publisher.audioChoice === NO_MICROPHONE}>${labels.publishNoMicrophone}</option>
      </select>
      ${publisher.stream?.getAudioTracks().length
        ? html`<meter part="publish-level" min="0" max="100" low="70" high="90" optimum="40" .value=${publisher.level} aria-label=${labels.publishLevel}></meter>`
        : nothing}
    </div>
    <div part="publish-actions">
      ${state === 'idle'
        ? html`<button type="button" class="primary" data-action="start-camera" @click=${() => void publisher.startPreview()}>${labels.publishStartCamera}</button>`
        : nothing}
      ${state === 'previewing'
        ? html`<button type="button" class="primary" data-action="go-live" @click=${() => void publisher.goLive()}>${labels.publishGoLive}</button>`
        : nothing}
      ${publisher.broadcasting || busy
        ? html`<button type="button" class="primary" data-action="end" ?disabled=${busy} @click=${() => void publisher.end()}>${labels.publishEnd}</button>`
        : nothing}
      ${state !== 'idle'
        ? html`<button type="button" data-action="stop-camera" ?disabled=${busy} @click=${() => void publisher.stopPreview()}>${labels.publishStopCamera}</button>`
        : nothing}
    </div>
    ${connectionLine(labels, publisher, lang)}
  </div>`;
}
