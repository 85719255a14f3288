import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { LiveClipReadyDetail, LiveUploadCompleteDetail, LiveUploadProgressDetail } from '../events.js';
import { dropNetwork, ffprobe, liveHls } from '../testing/live-media.js';
import { liveServer, TEST_CHANNEL } from '../testing/live-server.js';
import { axe } from '../testing/axe.js';
import { after, before, describe, it } from '../testing/mocha.js';
import { LiveUpload } from './live-upload.js';
import { MediaTranscoder, TranscodeCancelledError } from './media-transcoder.js';

const shadow = (element: LiveUpload) => element.shadowRoot!;
const button = (element: LiveUpload, action: string) => shadow(element).querySelector<HTMLButtonElement>(`[data-action="${action}"]`);
const statusLine = (element: LiveUpload) => shadow(element).querySelector('[part="status"]')!;
const progressbar = (element: LiveUpload) => shadow(element).querySelector<HTMLElement>('[role="progressbar"]');

async function expectNoAxeViolations(element: Element, state: string): Promise<void> {
  const { violations } = await (await axe()).run(element);
  expect(violations.map((violation) => `${violation.id}: ${violation.help}`), state).to.deep.equal([]);
}

async function mediaFixture(name: string): Promise<Blob> {
  const response = await fetch(`/__fixture/${name}`);
  if (!response.ok) throw new Error(`fixture ${name}: ${response.status}`);
  return response.blob();
}

/** Waits for the element's upload to reach `phase`. */
async function phaseReached(element: LiveUpload, phase: string): Promise<void> {
  await waitUntil(() => element.uploadPhase === phase, `phase ${phase}`, {
    timeout: 30_000,
    interval: 50,
  });
}

let endpoint = '';

before(async function () {
  this.timeout(60_000);
  endpoint = await liveServer.url();
});

describe('<live-upload> element', () => {
  it('is defined once as live-upload and composes the live-badge', async () => {
    expect(customElements.get('live-upload')).to.equal(LiveUpload);
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL}></live-upload>`);
    const badge = shadow(element).querySelector('live-badge')!;
    expect(badge.getAttribute('channel')).to.equal(TEST_CHANNEL);
    expect(badge.getAttribute('endpoint')).to.equal(endpoint);
    expect(statusLine(element).getAttribute('role')).to.equal('status');
    expect(statusLine(element).getAttribute('aria-live')).to.equal('polite');
  });

  it('shows no player and no clip button while nothing plays, but can record', async () => {
    await liveServer.goOffline();
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL}></live-upload>`);
    expect(shadow(element).querySelector('video')).to.equal(null);
    expect(button(element, 'clip')).to.equal(null);
    expect(button(element, 'camera')!.textContent!.trim()).to.equal('Record camera');
    await expectNoAxeViolations(element, 'idle');
  });

  it('turns features off with no-clip, no-record and no-upload', async () => {
    const element = await fixture<LiveUpload>(html`<live-upload src="/__live-hls/none" no-clip no-record></live-upload>`);
    expect(shadow(element).querySelector('[part="actions"]')).to.equal(null);
    const recordOnly = await fixture<LiveUpload>(html`<live-upload src="/__live-hls/none" no-clip></live-upload>`);
    expect(button(recordOnly, 'clip')).to.equal(null);
    expect(button(recordOnly, 'camera')).to.not.equal(null);
    const noUpload = await fixture<LiveUpload>(html`<live-upload no-upload></live-upload>`);
    await noUpload.useFile(await mediaFixture('2s-360p.mp4'));
    await noUpload.updateComplete;
    expect(button(noUpload, 'upload')).to.equal(null);
    expect(button(noUpload, 'discard')).to.not.equal(null);
  });

  it('speaks German under lang="de" and French under lang="fr-CA"', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div><p lang="de"><live-upload></live-upload></p><p lang="fr-CA"><live-upload></live-upload></p></div>`);
    const [de, fr] = [...wrapper.querySelectorAll('live-upload')] as LiveUpload[];
    await de!.updateComplete;
    expect(button(de!, 'camera')!.textContent!.trim()).to.equal('Kamera aufnehmen');
    expect(button(fr!, 'camera')!.textContent!.trim()).to.equal('Enregistrer la caméra');
    const custom = await fixture<LiveUpload>(html`<live-upload .labels=${{ recordCamera: 'Film me' }}></live-upload>`);
    expect(button(custom, 'camera')!.textContent!.trim()).to.equal('Film me');
  });

  it('follows a lang changed after load (on an ancestor), decimals included', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div lang="en"><live-upload></live-upload></div>`);
    const element = wrapper.querySelector('live-upload') as LiveUpload;
    await element.useFile(await mediaFixture('4s-360p.mp4'));
    await element.updateComplete;
    const selected = () => shadow(element).querySelector('live-trim-range')!.shadowRoot!.querySelector('[part="length"]')!.textContent;
    await waitUntil(() => selected() === '4.0 s selected', 'English');
    wrapper.setAttribute('lang', 'de');
    await waitUntil(() => selected() === '4,0 s ausgewählt', 'German, with a decimal comma');
    expect(button(element, 'discard')!.textContent!.trim()).to.equal('Verwerfen');
    const badge = shadow(element).querySelector('live-badge')!;
    expect(badge.shadowRoot!.textContent).to.not.contain('Offline'); // no status yet; the badge follows the same lang (see live-badge.test.ts)
    element.setAttribute('lang', 'fr');
    await waitUntil(() => button(element, 'discard')!.textContent!.trim() === 'Abandonner', 'its own lang wins');
  });

  it('is styled through --live-* custom properties and ::part names', async () => {
    const element = await fixture<LiveUpload>(html`<live-upload style="--live-focus-color: rgb(1, 2, 3); --live-button-background: rgb(4, 5, 6)"></live-upload>`);
    const camera = button(element, 'camera')!;
    expect(getComputedStyle(camera).backgroundColor).to.equal('rgb(4, 5, 6)');
    camera.focus();
    await sendKeys({ press: 'Tab' });
    const screen = button(element, 'screen')!;
    expect(shadow(element).activeElement, 'Tab moves to the next action').to.equal(screen);
    expect(getComputedStyle(screen).outlineColor, 'visible focus').to.equal('rgb(1, 2, 3)');
    expect(getComputedStyle(screen).outlineStyle).to.equal('solid');
    expect(shadow(element).querySelector('[part="actions"]')).to.not.equal(null);
  });
});

describe('<live-upload> clip from a real live HLS stream', () => {
  let hls = '';
  before(async function () {
    this.timeout(60_000);
    hls = await liveHls.url();
    await liveServer.goLive('Clip test');
  });
  after(async () => {
    await liveServer.goOffline();
  });

  it('clips the last N seconds of what was watched into an H.264 MP4 within one segment of N, with provenance', async function () {
    this.timeout(120_000);
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} src=${hls} clip-seconds="6"></live-upload>`);
    await waitUntil(() => shadow(element).querySelector('video[part="player"]'), 'player shown');
    const video = shadow(element).querySelector<HTMLVideoElement>('video[part="player"]')!;
    if (video.paused || video.readyState < 3) await oneEvent(video, 'playing');
    expect(video.getAttribute('aria-label')).to.equal(`Live video of ${TEST_CHANNEL}`);
    await expectNoAxeViolations(element, 'playing');
    const start = video.currentTime;
    await waitUntil(() => video.currentTime - start >= 6.5, 'watched 6.5 s', { timeout: 30_000, interval: 250 });
    const ready = oneEvent(element, 'live-clip-ready');
    const pressedAt = performance.now();
    button(element, 'clip')!.click();
    const { detail } = (await ready) as CustomEvent<LiveClipReadyDetail>;
    console.log(`clip press -> MP4: ${Math.round(performance.now() - pressedAt)} ms (core load included)`);
    expect(detail.source).to.equal('clip');
    expect(detail.blob.type).to.equal('video/mp4');
    const report = await ffprobe(detail.blob);
    expect(report.format.format_name).to.contain('mp4');
    expect(report.streams.find((s) => s.codec_type === 'video')?.codec_name).to.equal('h264');
    expect(report.streams.find((s) => s.codec_type === 'audio')?.codec_name).to.equal('aac');
    expect(Math.abs(Number(report.format.duration) - 6), `duration ${report.format.duration}`).to.be.at.most(2);

    const record = (await (await fetch(`${endpoint}/api/v1/channels/${TEST_CHANNEL}`)).json()) as { canonical_id: string };
    expect(detail.provenance?.canonical_id).to.equal(record.canonical_id);
    const from = Date.parse(detail.provenance!.from);
    const to = Date.parse(detail.provenance!.to);
    expect(to - from).to.be.closeTo(6000, 50);
    expect(Math.abs(to - Date.now()), 'ends near now (live edge minus the player latency)').to.be.below(30_000);

    expect(element.stage).to.equal('review');
    expect(statusLine(element).textContent).to.match(/^Clip ready: 6\.0 s$/);
    expect(shadow(element).activeElement).to.equal(button(element, 'upload'));
    await expectNoAxeViolations(element, 'review');

    // and it uploads, with its provenance, into the quarantine
    const complete = oneEvent(element, 'live-upload-complete');
    button(element, 'upload')!.click();
    const { uploadId } = ((await complete) as CustomEvent<LiveUploadCompleteDetail>).detail;
    const status = await (await fetch(`${endpoint}/api/v1/uploads/${uploadId}`)).json();
    expect(status.channel).to.equal(TEST_CHANNEL);
    expect(['checking', 'in_review', 'published']).to.include(status.status);
  });

  it('says so when there is nothing to clip yet', async () => {
    const element = await fixture<LiveUpload>(html`<live-upload src=${hls} clip-seconds="6"></live-upload>`);
    await waitUntil(() => button(element, 'clip'), 'clip button');
    button(element, 'clip')!.click(); // before the player had a segment
    await waitUntil(() => statusLine(element).textContent === 'Nothing to clip yet: let the stream play a moment', 'announced');
    expect(element.stage).to.equal('idle');
  });
});

describe('<live-upload> recording', () => {
  it('records the fake camera with a visible timer, then offers it for review', async function () {
    this.timeout(60_000);
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} max-record-seconds="60"></live-upload>`);
    button(element, 'camera')!.click();
    await waitUntil(() => element.stage === 'recording', 'recording');
    await element.updateComplete;
    expect(statusLine(element).textContent).to.equal('Recording');
    expect(shadow(element).activeElement).to.equal(button(element, 'stop'));
    await expectNoAxeViolations(element, 'recording');
    await waitUntil(() => shadow(element).querySelector('[part="timer"]')?.textContent === '0:01 of 1:00', 'timer at 0:01', { timeout: 5000 });
    const ready = oneEvent(element, 'live-clip-ready');
    await sendKeys({ press: 'Enter' }); // the focused Stop button
    const { detail } = (await ready) as CustomEvent<LiveClipReadyDetail>;
    expect(detail.source).to.equal('recording');
    expect(detail.provenance).to.equal(undefined);
    expect(detail.durationMs).to.be.within(1000, 5000);
    const report = await ffprobe(detail.blob);
    expect(report.streams.some((s) => s.codec_type === 'video')).to.equal(true);
    expect(element.stage).to.equal('review');
  });

  it('stops by itself at max-record-seconds', async function () {
    this.timeout(30_000);
    const element = await fixture<LiveUpload>(html`<live-upload max-record-seconds="1"></live-upload>`);
    const ready = oneEvent(element, 'live-clip-ready');
    button(element, 'camera')!.click();
    const { detail } = (await ready) as CustomEvent<LiveClipReadyDetail>;
    expect(detail.durationMs).to.be.at.most(1000);
  });
});

describe('<live-upload> trim', () => {
  it('trims with one two-thumb range from the keyboard, never crossing, and the ready line follows', async () => {
    const element = await fixture<LiveUpload>(html`<live-upload></live-upload>`);
    await element.useFile(await mediaFixture('4s-360p.mp4'));
    await element.updateComplete;
    const range = shadow(element).querySelector('live-trim-range')!;
    await range.updateComplete;
    const startHandle = range.shadowRoot!.querySelector<HTMLElement>('[data-thumb="start"]')!;
    const endHandle = range.shadowRoot!.querySelector<HTMLElement>('[data-thumb="end"]')!;
    expect(startHandle.getAttribute('aria-label')).to.equal('Start');
    startHandle.focus();
    for (let i = 0; i < 10; i++) await sendKeys({ press: 'ArrowRight' });
    await range.updateComplete;
    expect(startHandle.getAttribute('aria-valuetext'), 'seconds with tenths, not m:ss').to.equal('1.0 s');
    for (let i = 0; i < 5; i++) await sendKeys({ press: 'ArrowRight' });
    await range.updateComplete;
    expect(startHandle.getAttribute('aria-valuetext')).to.equal('1.5 s');
    endHandle.focus();
    await sendKeys({ press: 'Home' });
    await element.updateComplete;
    await range.updateComplete;
    expect(endHandle.getAttribute('aria-valuenow'), 'end stops 0.5 s after start').to.equal('2.0');
    expect(range.shadowRoot!.querySelector('[part="length"]')!.textContent).to.equal('0.5 s selected');
    expect(statusLine(element).textContent, 'the ready line follows the trim').to.equal('Recording ready: 0.5 s');
    await expectNoAxeViolations(element, 'trim');
  });
});

describe('<live-upload> upload', () => {
  let file: Blob;
  before(async function () {
    this.timeout(30_000);
    file = await mediaFixture('4s-720p.mp4');
  });

  async function reviewing(chunkSize = 64 * 1024): Promise<LiveUpload> {
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} chunk-size=${chunkSize}></live-upload>`);
    await element.useFile(file);
    await element.updateComplete;
    return element;
  }

  it('uploads with an accessible progress bar, progress events, then the server status', async function () {
    this.timeout(90_000);
    const element = await reviewing(256 * 1024);
    const progress: LiveUploadProgressDetail[] = [];
    element.addEventListener('live-upload-progress', (event) => progress.push(event.detail));
    const complete = oneEvent(element, 'live-upload-complete');
    button(element, 'upload')!.click();
    await waitUntil(() => element.stage === 'preparing', 'preparing');
    expect(progressbar(element)!.getAttribute('aria-label')).to.equal('Preparation progress');
    await expectNoAxeViolations(element, 'preparing');
    await waitUntil(() => element.stage === 'uploading', 'uploading', { timeout: 60_000 });
    await expectNoAxeViolations(element, 'uploading');
    const { detail } = (await complete) as CustomEvent<LiveUploadCompleteDetail>;
    expect(detail.status).to.equal('checking');
    const bytes = progress.filter((p) => p.phase === 'uploading').map((p) => p.bytesUploaded);
    expect(bytes.length).to.be.greaterThan(1);
    expect([...bytes].sort((a, b) => a - b)).to.deep.equal(bytes);
    expect(progress.at(-1)!.bytesUploaded).to.equal(file.size);
    await element.updateComplete;
    const bar = progressbar(element)!;
    expect(bar.getAttribute('aria-label')).to.equal('Upload progress');
    expect(bar.getAttribute('aria-valuenow')).to.equal('100');
    expect(bar.getAttribute('aria-valuemin')).to.equal('0');
    expect(bar.getAttribute('aria-valuemax')).to.equal('100');
    // Every byte is in: ready again by itself, Record enabled, while the notice follows the server.
    expect(element.stage).to.equal('idle');
    expect(button(element, 'camera')!.disabled).to.equal(false);
    expect(button(element, 'upload'), 'the clip is gone from review').to.equal(null);
    await phaseReached(element, 'in_review');
    await element.updateComplete;
    expect(statusLine(element).textContent).to.equal('Uploaded: in review');
    await expectNoAxeViolations(element, 'in review');
    const status = await (await fetch(`${endpoint}/api/v1/uploads/${detail.uploadId}`)).json();
    expect(status.status).to.equal('in_review');
    button(element, 'done')!.click();
    await element.updateComplete;
    expect(element.stage).to.equal('idle');
    expect(shadow(element).querySelector('[part="upload-result"]'), 'Done dismisses the notice').to.equal(null);
  });

  it('pauses mid-upload and resumes from where the server is', async function () {
    this.timeout(90_000);
    const element = await reviewing();
    let paused = false;
    element.addEventListener('live-upload-progress', ({ detail }) => {
      if (!paused && detail.phase === 'uploading' && detail.bytesUploaded > 0) {
        paused = true;
        button(element, 'pause')!.click();
      }
    });
    const complete = oneEvent(element, 'live-upload-complete');
    button(element, 'upload')!.click();
    await phaseReached(element, 'paused');
    await element.updateComplete;
    const at = Number(progressbar(element)!.getAttribute('aria-valuenow'));
    expect(at).to.be.below(100);
    expect(statusLine(element).textContent).to.equal(`Upload paused at ${at}%`);
    expect(shadow(element).activeElement).to.equal(button(element, 'resume'));
    await expectNoAxeViolations(element, 'paused');
    await sendKeys({ press: 'Enter' }); // Resume has the focus
    const { detail } = (await complete) as CustomEvent<LiveUploadCompleteDetail>;
    expect(detail.uploadId).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('waits out a lost network and carries on when it is back', async function () {
    this.timeout(90_000);
    const element = await reviewing(32 * 1024);
    let dropped = false;
    const phases: string[] = [];
    element.addEventListener('live-upload-progress', ({ detail }) => {
      phases.push(detail.phase);
      if (!dropped && detail.phase === 'uploading' && detail.bytesUploaded > 0) {
        dropped = true;
        void dropNetwork(1500);
      }
    });
    const complete = oneEvent(element, 'live-upload-complete');
    button(element, 'upload')!.click();
    await complete;
    expect(phases).to.include('offline');
    expect(phases.lastIndexOf('uploading')).to.be.greaterThan(phases.indexOf('offline'));
  });

  it('cancels an upload: the server deletes it', async function () {
    this.timeout(60_000);
    const element = await reviewing(32 * 1024);
    let uploadId = '';
    let cancelled = false;
    element.addEventListener('live-upload-progress', ({ detail }) => {
      uploadId = detail.uploadId;
      if (!cancelled && detail.bytesUploaded > 0) {
        cancelled = true;
        button(element, 'cancel')!.click();
      }
    });
    button(element, 'upload')!.click();
    await phaseReached(element, 'cancelled');
    const { PendingUploadStore } = await import('./pending-uploads.js');
    await waitUntil(async () => (await new PendingUploadStore().list(endpoint, TEST_CHANNEL)).length === 0, 'nothing kept for a resume', { timeout: 2_000 });
    await waitUntil(async () => (await (await fetch(`${endpoint}/api/v1/uploads/${uploadId}`)).json()).status === 'deleted', 'deleted on the server');
  });

  it('resumes after a reload with the stored grant, bytes and tus fingerprint (same upload, no new one)', async function () {
    this.timeout(90_000);
    const first = await reviewing(32 * 1024);
    const { PendingUploadStore } = await import('./pending-uploads.js');
    expect(await new PendingUploadStore().list(endpoint, TEST_CHANNEL), 'finished and cancelled uploads left nothing stored').to.deep.equal([]);
    let uploadId = '';
    const progressed = new Promise<void>((resolve) =>
      first.addEventListener('live-upload-progress', ({ detail }) => {
        uploadId = detail.uploadId;
        if (detail.bytesUploaded > 0) resolve();
      }),
    );
    button(first, 'upload')!.click();
    await progressed;
    first.remove(); // the page goes away mid-upload
    const fingerprints = Object.keys(localStorage).filter((key) => key.startsWith('tus::live-upload:'));
    expect(fingerprints.some((key) => key.includes(uploadId))).to.equal(true);

    const second = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} chunk-size="65536"></live-upload>`);
    await waitUntil(() => button(second, 'resume-stored'), 'offers the stored upload');
    expect(button(second, 'resume-stored')!.textContent).to.match(/^\s*Resume upload of recording-acme-morning-show-.*\.mp4\s*$/);
    await expectNoAxeViolations(second, 'stored upload offered');
    const seen: number[] = [];
    second.addEventListener('live-upload-progress', ({ detail }) => seen.push(detail.bytesUploaded));
    const complete = oneEvent(second, 'live-upload-complete');
    button(second, 'resume-stored')!.click();
    const { detail } = (await complete) as CustomEvent<LiveUploadCompleteDetail>;
    expect(detail.uploadId).to.equal(uploadId);
    expect(seen.find((bytes) => bytes > 0), 'continued from the offset the server had').to.be.greaterThan(0);
    expect(Object.keys(localStorage).some((key) => key.includes(uploadId)), 'fingerprint removed on success').to.equal(false);
    const again = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL}></live-upload>`);
    await again.updateComplete;
    await new Promise((resolve) => requestAnimationFrame(resolve));
    expect(button(again, 'resume-stored'), 'nothing left to resume').to.equal(null);
  });

  it('reports a refused grant as live-error, rendering the server message as text', async () => {
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel="acme/no-such-channel"></live-upload>`);
    await element.useFile(file);
    await element.updateComplete;
    const error = oneEvent(element, 'live-error');
    button(element, 'upload')!.click();
    const { detail } = await error;
    expect(detail.code).to.equal('not_found');
    expect(detail.message, 'the technical detail is in the event').to.contain('no channel acme/no-such-channel');
    await element.updateComplete;
    const shown = shadow(element).querySelector('[part="error"]')!;
    expect(shown.textContent, 'a human sentence on screen').to.contain('This channel does not take uploads at the moment.');
    expect(shown.textContent).to.not.contain('no channel');
    expect(element.stage, 'back to the same clip').to.equal('review');
    expect(button(element, 'retry')!.textContent!.trim()).to.equal('Try again');
    await expectNoAxeViolations(element, 'failed');
    const again = oneEvent(element, 'live-error');
    button(element, 'retry')!.click(); // Try again uploads the same clip again
    expect((await again).detail.code).to.equal('not_found');
  });
});

describe('MediaTranscoder (FFmpeg.wasm from our origin)', () => {
  it('normalises a WebM (VP8/Opus) 1080p to H.264/AAC MP4 capped at 720p, with progress', async function () {
    this.timeout(180_000);
    const transcoder = new MediaTranscoder(`${endpoint}/element/`);
    expect(transcoder.core).to.equal(crossOriginIsolated ? 'core-mt' : 'core');
    const input = new Uint8Array(await (await mediaFixture('2s-1080p.webm')).arrayBuffer());
    const info = await transcoder.probe(input);
    expect(info.videoCodec).to.equal('vp8');
    expect(info.height).to.equal(1080);
    const fractions: number[] = [];
    const output = await transcoder.encode(input, { durationMs: 2000 }, (fraction) => fractions.push(fraction));
    expect(fractions.at(-1)).to.equal(1);
    const report = await ffprobe(new Blob([output as Uint8Array<ArrayBuffer>]));
    const video = report.streams.find((s) => s.codec_type === 'video')!;
    expect(video.codec_name).to.equal('h264');
    expect(video.height).to.equal(720);
    expect(video.width).to.equal(1280);
    expect(report.streams.find((s) => s.codec_type === 'audio')?.codec_name).to.equal('aac');
    transcoder.cancel();
  });

  it('cuts on keyframes by stream copy, and exactly by re-encoding', async function () {
    this.timeout(120_000);
    const transcoder = new MediaTranscoder(`${endpoint}/element/`);
    const input = new Uint8Array(await (await mediaFixture('4s-360p.mp4')).arrayBuffer());
    const copied = await ffprobe(new Blob([(await transcoder.remux(input, { startMs: 1000, durationMs: 2000 })) as Uint8Array<ArrayBuffer>]));
    expect(Number(copied.format.duration)).to.be.within(1.9, 4.1);
    const exact = await ffprobe(new Blob([(await transcoder.encode(input, { durationMs: 4000, cut: { startMs: 1000, durationMs: 2000 } })) as Uint8Array<ArrayBuffer>]));
    expect(Number(exact.format.duration)).to.be.closeTo(2, 0.1);
    transcoder.cancel();
  });

  it('is cancellable: the running job rejects and the next one loads a fresh worker', async function () {
    this.timeout(120_000);
    const transcoder = new MediaTranscoder(`${endpoint}/element/`);
    const input = new Uint8Array(await (await mediaFixture('2s-1080p.webm')).arrayBuffer());
    await transcoder.preload();
    const running = transcoder.encode(input, { durationMs: 2000 }, () => transcoder.cancel());
    let rejected: unknown;
    await running.catch((error: unknown) => (rejected = error));
    expect(rejected).to.be.instanceOf(TranscodeCancelledError);
    const info = await transcoder.probe(input);
    expect(info.videoCodec).to.equal('vp8');
    transcoder.cancel();
  });
});
