import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { LiveClipReadyDetail, LiveUploadCompleteDetail } from '../events.js';
import { axe } from '../testing/axe.js';
import { ffprobe, liveHls } from '../testing/live-media.js';
import { liveServer, recordEventSources, TEST_CHANNEL } from '../testing/live-server.js';
import { after, before, describe, it } from '../testing/mocha.js';
import type { LiveUpload } from './live-upload.js';
import './live-upload.js';

const shadow = (element: LiveUpload) => element.shadowRoot!;
const part = <T extends Element = HTMLElement>(element: LiveUpload, name: string) => shadow(element).querySelector<T>(`[part~="${name}"]`);
const button = (element: LiveUpload, action: string) => shadow(element).querySelector<HTMLButtonElement>(`[data-action="${action}"]`);
const statusText = (element: LiveUpload) => shadow(element).querySelector('[part="status"]')!.textContent;

async function expectNoAxeViolations(element: Element, state: string): Promise<void> {
  const { violations } = await (await axe()).run(element);
  expect(violations.map((violation) => `${violation.id}: ${violation.help}`), state).to.deep.equal([]);
}

async function press(key: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await sendKeys({ press: key });
}

/** The media segment URLs the page fetched with `fetch` (hls.js loads with XHR: these are the clip's). */
function fetchedSegments(rendition: string): string[] {
  return performance
    .getEntriesByType('resource')
    .filter((entry) => (entry as PerformanceResourceTiming).initiatorType === 'fetch' && entry.name.includes(`/${rendition}/`) && entry.name.endsWith('.m4s'))
    .map((entry) => entry.name);
}

let endpoint = '';
let replay: { canonical_id: string; master: string };

before(async function () {
  this.timeout(180_000);
  performance.setResourceTimingBufferSize(100_000); // the dev server's modules alone fill the default 250
  endpoint = await liveServer.url();
  replay = await liveServer.publishReplay();
  const hls = await liveHls.url();
  await liveServer.goOffline();
  // Public replays are listed by /status; the live stream is there for going live again.
  await liveServer.setPlayback(new URL(hls, location.href).href, 'public');
});

after(async () => {
  await liveServer.goOffline();
  await liveServer.setPlayback();
});

describe('<live-upload> replay of an offline channel', () => {
  it('plays the latest replay with a quality menu, clips a range of it into an upload naming the broadcast and seconds, and goes back to live', async function () {
    this.timeout(240_000);
    const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} clip-seconds="4" no-record></live-upload>`);

    // Offline with a public replay: a real button offers it.
    await waitUntil(() => part(element, 'watch-replay'), 'Watch the replay offered', { timeout: 20_000, interval: 100 });
    const watch = part<HTMLButtonElement>(element, 'watch-replay')!;
    expect(watch.localName).to.equal('button');
    expect(watch.textContent!.trim()).to.equal('Watch the replay');
    expect(part(element, 'player'), 'no live player while offline').to.equal(null);
    await expectNoAxeViolations(element, 'offered');
    const french = (await fixture<HTMLElement>(html`<div lang="fr"><live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} no-record></live-upload></div>`)).querySelector<LiveUpload>('live-upload')!;
    await waitUntil(() => part(french, 'watch-replay'), 'offered in French', { timeout: 20_000, interval: 100 });
    expect(part(french, 'watch-replay')!.textContent!.trim()).to.equal('Voir la rediffusion');
    french.remove();

    // It plays (hls.js over the ladder), poster shown until the first frame.
    watch.click();
    await waitUntil(() => part(element, 'replay'), 'replay video');
    const video = part<HTMLVideoElement>(element, 'replay')!;
    expect(video.getAttribute('poster')).to.match(/\/vod\/acme\/morning-show\/[0-9A-Z]{26}\/poster\.jpg$/);
    expect(video.getAttribute('aria-label')).to.equal(`Replay of ${TEST_CHANNEL}`);
    expect(statusText(element)).to.equal('Playing the replay');
    video.muted = true;
    await waitUntil(() => video.currentTime > 1, 'replay plays', { timeout: 30_000, interval: 100 }).catch((error: Error) => {
      const state = `currentTime ${video.currentTime}, paused ${video.paused}, readyState ${video.readyState}, error ${video.error?.message ?? 'none'}, status "${statusText(element)}"`;
      throw new Error(`${error.message} (${state})`);
    });

    // The quality menu: Auto and each rung by height, operated with the keyboard, the change announced.
    const quality = part<HTMLSelectElement>(element, 'replay-quality')!;
    await waitUntil(() => quality.options.length === 3 && !quality.disabled, `rungs listed (${quality.options.length})`, { timeout: 20_000, interval: 100 });
    expect([...quality.options].map((option) => option.textContent!.trim().replace(/ \(.*\)$/, ''))).to.deep.equal(['Auto', '480p', '360p']);
    expect(shadow(element).querySelector(`label[for="${quality.id}"]`)!.textContent).to.equal('Quality');
    quality.focus();
    await press('ArrowDown', 2);
    await waitUntil(() => statusText(element) === 'Quality: 360p', `announced (${statusText(element)})`, { timeout: 5000, interval: 50 });
    await waitUntil(() => video.videoHeight === 360, `360p on screen (${video.videoHeight})`, { timeout: 30_000, interval: 100 });
    await expectNoAxeViolations(element, 'watching');

    // Clip on the replay's timeline: 5 s to 9 s with the trim handles' keyboard.
    await waitUntil(() => button(element, 'replay-clip') && !button(element, 'replay-clip')!.disabled, 'Clip from the replay');
    button(element, 'replay-clip')!.click();
    await waitUntil(() => part(element, 'replay-range'), 'range on the replay');
    await element.updateComplete;
    const range = part(element, 'replay-range')!;
    const thumb = (which: 'start' | 'end') => range.shadowRoot!.querySelector<HTMLElement>(`[data-thumb="${which}"]`)!;
    thumb('end').focus();
    await press('End');
    thumb('start').focus();
    await press('Home');
    await press('PageUp', 5);
    const durationS = Number(thumb('end').getAttribute('aria-valuenow'));
    expect(durationS, 'the range spans the replay').to.be.within(11, 13);
    thumb('end').focus();
    await press('PageDown', Math.round(durationS - 9));
    await element.updateComplete;
    const fromS = Number(thumb('start').getAttribute('aria-valuenow'));
    const toS = Number(thumb('end').getAttribute('aria-valuenow'));
    expect(fromS).to.equal(5);
    expect(toS).to.be.closeTo(9, 0.6);
    await expectNoAxeViolations(element, 'picking a range');

    const ready = oneEvent(element, 'live-clip-ready');
    button(element, 'replay-cut')!.click();
    const { detail } = (await ready) as CustomEvent<LiveClipReadyDetail>;
    expect(detail.source).to.equal('clip');
    expect(detail.provenance?.canonical_id).to.equal(replay.canonical_id);
    const report = await ffprobe(detail.blob);
    expect(report.format.format_name).to.contain('mp4');
    const picture = report.streams.find((stream) => stream.codec_type === 'video');
    expect(picture?.codec_name).to.equal('h264');
    expect(picture?.height, 'cut from the 480p rung').to.equal(480);
    expect(report.streams.find((stream) => stream.codec_type === 'audio')?.codec_name).to.equal('aac');
    console.log(`replay clip ${fromS}-${toS} s: ffprobe duration ${report.format.duration} s`);
    // Stream copy starts on the keyframe at 4 s; the MP4's edit list starts playback at 5 s, so the clip is the range, not its segments.
    expect(Math.abs(Number(report.format.duration) - (toS - fromS)), `duration ${report.format.duration}`).to.be.at.most(0.5);
    // Only the segments that overlap 5-9 s (of 4 s each: the 2nd and 3rd), never the whole replay.
    const videoSegments = fetchedSegments('480p');
    expect(videoSegments, videoSegments.join(', ')).to.have.length(2);
    expect(fetchedSegments('audio').length, 'audio segments of the range only').to.be.at.most(3);

    // Uploaded as today; the record names the broadcast and the seconds.
    await element.updateComplete;
    const complete = oneEvent(element, 'live-upload-complete');
    button(element, 'upload')!.click();
    const { uploadId } = ((await complete) as CustomEvent<LiveUploadCompleteDetail>).detail;
    const record = (await liveServer.uploadRecord(uploadId)) as { source: string; clip: { canonical_id: string; from_s: number; to_s: number } };
    expect(record.clip.canonical_id).to.equal(replay.canonical_id);
    expect(record.clip.from_s).to.be.closeTo(fromS, 0.01);
    expect(record.clip.to_s).to.be.closeTo(toS, 0.01);
    await waitUntil(() => button(element, 'done'), 'upload notice');
    button(element, 'done')!.click();

    // The channel goes live again: the replay gives way to the live player.
    await liveServer.goLive('Back live');
    await waitUntil(() => part(element, 'player') && !part(element, 'replay'), 'live player instead of the replay', { timeout: 20_000, interval: 100 });
    expect(part(element, 'watch-replay')).to.equal(null);
    expect(statusText(element)).to.equal('The channel is live again.');
    await expectNoAxeViolations(element, 'live again');
  });

  it('offers a replay published while it follows the channel at once, from its vod-progress event, not at the next /status refresh', async function () {
    this.timeout(60_000);
    await liveServer.goOffline();
    const hls = new URL(await liveHls.url(), location.href).href;
    await liveServer.setPlayback(hls, 'unlisted'); // listed nowhere: /status names no replay
    const sources = recordEventSources();
    try {
      const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} no-record></live-upload>`);
      await waitUntil(() => sources.opened.at(-1)?.readyState === EventSource.OPEN && statusText(element) !== null, 'following the offline channel', { timeout: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // its first /status look-up found nothing
      expect(part(element, 'watch-replay'), 'no public replay yet').to.equal(null);

      await liveServer.setPlayback(hls, 'public');
      const data = JSON.stringify({ canonical_id: replay.canonical_id, state: 'published', percent: 100, at: new Date().toISOString() });
      sources.opened.at(-1)!.dispatchEvent(new MessageEvent('vod-progress', { data }));
      // Well before the 30 s backstop refresh.
      await waitUntil(() => part(element, 'watch-replay'), 'Watch the replay offered after the published event', { timeout: 5_000, interval: 50 });
    } finally {
      sources.restore();
    }
  });
});
