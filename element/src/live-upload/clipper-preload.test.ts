import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { controlledHls, pageWorkers } from '../testing/live-media.js';
import { liveServer } from '../testing/live-server.js';
import { after, afterEach, before, describe, it } from '../testing/mocha.js';
import { savesData } from './clipper-preload.js';
import './live-upload.js'; // defines <live-upload>
import type { LiveUpload } from './live-upload.js';

const shadow = (element: LiveUpload) => element.shadowRoot!;
const button = (element: LiveUpload, action: string) => shadow(element).querySelector<HTMLButtonElement>(`[data-action="${action}"]`);

async function playing(element: LiveUpload): Promise<HTMLVideoElement> {
  await waitUntil(() => shadow(element).querySelector('video[part="player"]'), 'player shown');
  const video = shadow(element).querySelector<HTMLVideoElement>('video[part="player"]')!;
  await waitUntil(() => !video.paused && video.readyState >= 2 && video.currentTime > 0.2, 'playing', { timeout: 30_000, interval: 100 });
  return video;
}

/** Waits until the player has played `seconds` (a clip of that many seconds is then offered without asking). */
async function watched(video: HTMLVideoElement, seconds: number): Promise<void> {
  const played = () => Array.from({ length: video.played.length }, (_, i) => video.played.end(i) - video.played.start(i)).reduce((sum, span) => sum + span, 0);
  await waitUntil(() => played() >= seconds, `watched ${seconds} s`, { timeout: 30_000, interval: 100 });
}

const noWorkersLeft = () => waitUntil(async () => (await pageWorkers()).length === 0, 'no workers left', { timeout: 10_000, interval: 100 });

let endpoint = '';
before(async function () {
  this.timeout(60_000);
  endpoint = await liveServer.url();
});

describe('FFmpeg.wasm is loaded while the live player plays, before the first Clip press', () => {
  afterEach(noWorkersLeft);

  it('starts the FFmpeg worker once the player plays, and the first press clips on that same worker', async function () {
    this.timeout(120_000);
    const stream = await controlledHls.start(8);
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} src=${stream.url} clip-seconds="2" no-record></live-upload>`);
    const video = await playing(element);
    await waitUntil(async () => (await pageWorkers()).length === 1, 'the FFmpeg worker started before any press', { timeout: 20_000, interval: 100 });
    const before = await pageWorkers();
    await watched(video, 2.5);
    const ready = oneEvent(element, 'live-clip-ready');
    button(element, 'clip')!.click();
    await ready;
    expect(await pageWorkers(), 'the press used the preloaded worker').to.deep.equal(before);
    element.remove();
  });

  it('loads nothing ahead with no-clip, and nothing while the player has not played', async function () {
    this.timeout(120_000);
    const stream = await controlledHls.start(8);
    const noClip = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} src=${stream.url} no-clip no-record></live-upload>`);
    expect(await pageWorkers(), 'nothing before the player plays').to.deep.equal([]);
    // A clipping element on the same page as the control: once its preload ran, the other's would have too.
    const clipping = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} src=${stream.url} no-record></live-upload>`);
    await Promise.all([playing(noClip), playing(clipping)]);
    await waitUntil(async () => (await pageWorkers()).length >= 1, 'the clipping element preloaded', { timeout: 20_000, interval: 100 });
    await new Promise((resolve) => requestIdleCallback(resolve, { timeout: 5_000 })); // the no-clip element's idle moment has passed too
    expect(await pageWorkers(), 'one worker: the clipping element\'s').to.have.length(1);
    noClip.remove();
    clipping.remove();
  });

  describe('when the viewer asked to save data', () => {
    let saveData: PropertyDescriptor | undefined;
    const connection = (navigator as Navigator & { connection?: object }).connection;
    before(() => {
      if (!connection) return;
      saveData = Object.getOwnPropertyDescriptor(connection, 'saveData');
      Object.defineProperty(connection, 'saveData', { configurable: true, get: () => true });
    });
    after(() => {
      if (!connection) return;
      if (saveData) Object.defineProperty(connection, 'saveData', saveData);
      else delete (connection as { saveData?: boolean }).saveData;
    });

    it('loads nothing ahead; the press still clips (loading the core then)', async function () {
      this.timeout(120_000);
      expect(savesData()).to.equal(true);
      const stream = await controlledHls.start(8);
      const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} src=${stream.url} clip-seconds="2" no-record></live-upload>`);
      await watched(await playing(element), 2.5);
      await new Promise((resolve) => requestIdleCallback(resolve, { timeout: 5_000 }));
      await new Promise((resolve) => setTimeout(resolve, 0));
      await element.updateComplete;
      expect(await pageWorkers(), 'no FFmpeg worker before the press').to.deep.equal([]);
      const ready = oneEvent(element, 'live-clip-ready');
      button(element, 'clip')!.click();
      await ready;
      expect(await pageWorkers()).to.have.length(1);
      element.remove();
    });
  });

  it('reads the save-data hint from navigator.connection', () => {
    expect(savesData({ connection: { saveData: true } } as unknown as Navigator)).to.equal(true);
    expect(savesData({ connection: { saveData: false } } as unknown as Navigator)).to.equal(false);
    expect(savesData({} as Navigator)).to.equal(false);
  });
});
