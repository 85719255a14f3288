import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import type { LiveClipReadyDetail } from '../events.js';
import { controlledHls, pageWorkers } from '../testing/live-media.js';
import { liveServer, TEST_CHANNEL } from '../testing/live-server.js';
import { axe } from '../testing/axe.js';
import { after, before, describe, it } from '../testing/mocha.js';
import './live-upload.js'; // defines <live-upload>
import type { LiveUpload } from './live-upload.js';
import { MediaTranscoder } from './media-transcoder.js';

const shadow = (element: LiveUpload) => element.shadowRoot!;
const button = (element: LiveUpload, action: string) => shadow(element).querySelector<HTMLButtonElement>(`[data-action="${action}"]`);
const statusText = (element: LiveUpload) => shadow(element).querySelector('[part="status"]')!.textContent;
const errorPart = (element: LiveUpload) => shadow(element).querySelector('[part="error"]');
const player = (element: LiveUpload) => shadow(element).querySelector<HTMLVideoElement>('video[part="player"]');
const PAUSED = 'The stream paused. It continues here when it is back.';

async function playing(element: LiveUpload): Promise<HTMLVideoElement> {
  await waitUntil(() => player(element), 'player shown');
  const video = player(element)!;
  await waitUntil(() => !video.paused && video.readyState >= 2 && video.currentTime > 0.2, 'playing', { timeout: 30_000, interval: 100 });
  return video;
}

/** Waits until the player has played `seconds` of the stream (what a clip is cut from). */
async function watched(element: LiveUpload, seconds: number): Promise<void> {
  const video = await playing(element);
  const played = () => Array.from({ length: video.played.length }, (_, i) => video.played.end(i) - video.played.start(i)).reduce((sum, span) => sum + span, 0);
  await waitUntil(() => played() >= seconds, `watched ${seconds} s`, { timeout: 30_000, interval: 100 });
}

let endpoint = '';
before(async function () {
  this.timeout(60_000);
  endpoint = await liveServer.url();
});

describe('<live-upload> player when the stream goes away and comes back', () => {
  it('asks for a vanished playlist with backoff, says calmly that the stream paused, and plays again when it is back', async function () {
    this.timeout(90_000);
    const stream = await controlledHls.start(8);
    const element = await fixture<LiveUpload>(html`<live-upload src=${stream.url} no-record></live-upload>`);
    await playing(element);
    const before = (await controlledHls.requests(stream.id)).length;
    await controlledHls.set(stream.id, { gone: true });
    await waitUntil(() => statusText(element) === PAUSED, 'the calm paused state', { timeout: 30_000, interval: 100 });
    expect(errorPart(element), 'no error text').to.equal(null);
    await expectNoAxeViolations(element);
    // Wait for five requests for the vanished playlist, then look at when they came.
    let asked: number[] = [];
    await waitUntil(async () => (asked = (await controlledHls.requests(stream.id)).slice(before)).length >= 5, 'five more playlist requests', { timeout: 40_000, interval: 250 });
    const first = asked[0]!;
    console.log(`playlist requests after it vanished, ms after the first: ${asked.map((at) => at - first).join(', ')}`);
    expect(asked.filter((at) => at - first < 5000).length, 'requests in the first 5 s').to.be.at.most(5);
    const gaps = asked.slice(1).map((at, i) => at - asked[i]!);
    expect(gaps.at(-1)!, `the gaps grow: ${gaps.join(', ')}`).to.be.greaterThan(gaps[0]! + 500);
    // The stream comes back (further along): the player picks it up by itself.
    await controlledHls.set(stream.id, { gone: false, position: 20 });
    await waitUntil(() => statusText(element) === '', 'the paused note goes', { timeout: 30_000, interval: 100 });
    await playing(element);
    expect(errorPart(element)).to.equal(null);
  });

  it('shows no error once the channel is offline: the stream has ended', async function () {
    this.timeout(90_000);
    const stream = await controlledHls.start(8);
    await liveServer.setPlayback(new URL(stream.url, location.href).href);
    try {
      await liveServer.goLive('Stream end test');
      const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} no-record></live-upload>`);
      await playing(element);
      await controlledHls.set(stream.id, { gone: true });
      await waitUntil(() => statusText(element) === PAUSED, 'paused', { timeout: 30_000, interval: 100 });
      await liveServer.goOffline();
      await waitUntil(() => !player(element) && statusText(element) === 'The stream has ended.', 'ended', { timeout: 15_000, interval: 100 });
      expect(errorPart(element)).to.equal(null);
      await expectNoAxeViolations(element);
    } finally {
      await liveServer.goOffline();
      await liveServer.setPlayback();
    }
  });
});

describe('<live-upload> honest clip length', () => {
  it('asks before clipping less than the button says, then clips what there is', async function () {
    this.timeout(90_000);
    const stream = await controlledHls.start(8);
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} src=${stream.url} clip-seconds="30" no-record></live-upload>`);
    await watched(element, 2.5);
    button(element, 'clip')!.click();
    await waitUntil(() => button(element, 'clip-available'), `asked first; it says ${statusText(element)}`);
    const offered = /^Only (\d+) s buffered: clip \1 s\?$/.exec(statusText(element) ?? '');
    expect(offered, statusText(element) ?? '').to.not.equal(null);
    const seconds = Number(offered![1]);
    expect(seconds).to.be.within(1, 8);
    expect(button(element, 'clip-available')!.textContent!.trim()).to.equal(`Clip ${seconds} s`);
    expect(shadow(element).activeElement).to.equal(button(element, 'clip-available'));
    await expectNoAxeViolations(element);
    const ready = oneEvent(element, 'live-clip-ready');
    button(element, 'clip-available')!.click();
    const { detail } = (await ready) as CustomEvent<LiveClipReadyDetail>;
    expect(detail.durationMs).to.be.within(seconds * 1000, (seconds + 1) * 1000);
  });

  it('cancelling the question clips nothing', async function () {
    this.timeout(60_000);
    const stream = await controlledHls.start(8);
    const element = await fixture<LiveUpload>(html`<live-upload src=${stream.url} clip-seconds="30" no-record></live-upload>`);
    await watched(element, 2.5);
    button(element, 'clip')!.click();
    await waitUntil(() => button(element, 'clip-cancel'), 'asked first');
    button(element, 'clip-cancel')!.click();
    await element.updateComplete;
    expect(button(element, 'clip-available')).to.equal(null);
    expect(element.stage).to.equal('idle');
    expect(statusText(element)).to.equal('');
  });
});

describe('FFmpeg workers are reused, and ended', () => {
  after(async () => {
    await waitUntil(async () => (await pageWorkers()).length === 0, 'no workers left', { timeout: 10_000, interval: 100 });
  });

  it('an element that clips five times runs one FFmpeg worker, and none once removed', async function () {
    this.timeout(180_000);
    const stream = await controlledHls.start(8);
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} src=${stream.url} clip-seconds="2" no-record></live-upload>`);
    await watched(element, 2.5);
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ready = oneEvent(element, 'live-clip-ready');
      button(element, 'clip')!.click();
      await Promise.race([ready, waitUntil(() => element.stage === 'idle' && statusText(element) !== '', 'a clip or a word', { timeout: 60_000 })]);
      expect(element.stage, `clip ${i + 1}: ${statusText(element)}`).to.equal('review');
      counts.push((await pageWorkers()).length);
      button(element, 'discard')!.click();
      await element.updateComplete;
    }
    expect(counts, 'workers after each clip').to.deep.equal([1, 1, 1, 1, 1]);
    element.remove();
    await waitUntil(async () => (await pageWorkers()).length === 0, 'the worker ends with the element', { timeout: 10_000, interval: 100 });
  });

  it('a transcoder ends its idle worker after idleMs, and starts a fresh one for the next job', async function () {
    this.timeout(120_000);
    const transcoder = new MediaTranscoder(`${endpoint}/element/`, false, { idleMs: 300 });
    const input = new Uint8Array(await (await fetch('/__fixture/2s-360p.mp4')).arrayBuffer());
    expect((await transcoder.probe(input)).videoCodec).to.equal('h264');
    expect(transcoder.workerAlive).to.equal(true);
    await waitUntil(async () => !transcoder.workerAlive && (await pageWorkers()).length === 0, 'idle worker ended', { timeout: 10_000, interval: 50 });
    expect((await transcoder.probe(input)).videoCodec).to.equal('h264');
    transcoder.cancel();
    await waitUntil(async () => (await pageWorkers()).length === 0, 'cancel ends it', { timeout: 10_000, interval: 50 });
  });
});

async function expectNoAxeViolations(element: Element): Promise<void> {
  const { violations } = await (await axe()).run(element);
  expect(violations.map((violation) => `${violation.id}: ${violation.help}`)).to.deep.equal([]);
}
