import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { LiveErrorDetail } from '../events.js';
import { axe } from '../testing/axe.js';
import { dropNetwork } from '../testing/live-media.js';
import { TEST_CHANNEL } from '../testing/live-server.js';
import { afterEach, before, describe, it, type MochaContext } from '../testing/mocha.js';
import { whipServer, whipSessionId } from '../testing/whip-server.js';
import './live-upload.js';
import type { LiveUpload } from './live-upload.js';

// The element goes live into the real server with our origin (test/support/whip-test-server.ts:
// WHIP routes, werift, the ffmpeg live ladder), from Chromium's fake camera and microphone.

const shadow = (element: LiveUpload) => element.shadowRoot!;
const query = <T extends Element>(element: LiveUpload, selector: string) => shadow(element).querySelector<T>(selector);
const action = (element: LiveUpload, name: string) => query<HTMLElement>(element, `[data-action="${name}"]`);
const statusLine = (element: LiveUpload) => query(element, '[part="status"]')!.textContent;

async function pressButton(element: LiveUpload, name: string): Promise<void> {
  const target = action(element, name);
  expect(target, `${name} button`).to.not.equal(null);
  target!.focus();
  await sendKeys({ press: 'Enter' });
}

/** A publisher element on the origin server whose `publishGrant` asks the admin API for a fresh grant each call, as a host backend would. */
async function publisher(endpoint: string, channel = TEST_CHANNEL): Promise<{ element: LiveUpload; grants: string[] }> {
  const grants: string[] = [];
  const grant = async () => {
    const token = await whipServer.grant({ channel });
    grants.push(token);
    return token;
  };
  const element = await fixture<LiveUpload>(html`<live-upload publish endpoint=${endpoint} channel=${channel} .publishGrant=${grant}></live-upload>`);
  return { element, grants };
}

let opened: LiveUpload[] = [];
afterEach(async () => {
  for (const element of opened) await element.stopPreview();
  opened = [];
});

describe('<live-upload publish> goes live into our origin', () => {
  let endpoint = '';
  before(async function (this: MochaContext) {
    this.timeout(60_000);
    const found = await whipServer.url();
    if (!found) this.skip(); // the origin's test server is not in this tree yet
    endpoint = found;
  });

  it('goes live from the keyboard, shows the connection and bitrate, the origin makes its ladder; a second publisher gets 409; the screen replaces the camera live; End ends it', async function () {
    this.timeout(180_000);
    const { element, grants } = await publisher(endpoint);
    opened.push(element);
    await pressButton(element, 'start-camera');
    await waitUntil(() => element.publishState === 'previewing', 'previewing', { timeout: 10_000 });
    await element.updateComplete;

    const announced: string[] = [];
    const observer = new MutationObserver(() => announced.push(`${Math.round(performance.now() - pressedAt)} ms: ${statusLine(element)}`));
    observer.observe(query(element, '[part="status"]')!, { childList: true, characterData: true, subtree: true });
    const pressedAt = performance.now();
    await pressButton(element, 'go-live');
    await waitUntil(() => element.publishState === 'live', 'live', { timeout: 30_000, interval: 50 });
    console.log(`Go live -> connected: ${Math.round(performance.now() - pressedAt)} ms; announced: ${announced.join(' | ')}`);
    observer.disconnect();
    await element.updateComplete;
    expect(statusLine(element)).to.equal('You are live');
    expect(element.getAttribute('publish-state')).to.equal('live');
    expect(shadow(element).activeElement, 'End has the focus').to.equal(action(element, 'end'));
    const connection = () => query(element, '[part="publish-connection"]')?.textContent ?? '';
    await waitUntil(() => /^Connection: connected · sending [\d.]+ (Mb|kb)\/s$/.test(connection()), 'bitrate shown', { timeout: 10_000 });
    console.log(connection());
    await expectNoAxe(element, 'live');

    const sessionUrl = element.publishSessionUrl!;
    const sessionId = whipSessionId(sessionUrl);
    await waitUntil(async () => (await whipServer.session(sessionId)).online === 1, 'the origin signalled the session online (media reached its ladder)', { timeout: 90_000, interval: 500 }).catch(
      async (error: unknown) => {
        const { files } = await whipServer.session(sessionId);
        throw new Error(`${String(error)}; the sink has ${files.length} files: ${files.slice(0, 12).join(', ')}; the element is ${element.publishState}, ${query(element, '[part="publish-connection"]')?.textContent}`);
      },
    );
    await waitUntil(async () => (await whipServer.session(sessionId)).files.some((file) => file.endsWith('.m4s')), 'ladder segments', { timeout: 60_000, interval: 500 });
    const report = await whipServer.session(sessionId);
    console.log(`origin ladder files so far: ${report.files.length} (${report.files.filter((file) => file.endsWith('index.m3u8') || file === 'master.m3u8').join(', ')})`);

    // Another page with a fresh grant cannot go live on the same channel meanwhile.
    const second = await publisher(endpoint);
    opened.push(second.element);
    await second.element.startPreview();
    const refused = oneEvent(second.element, 'live-error');
    await second.element.goLive();
    expect(((await refused) as CustomEvent<LiveErrorDetail>).detail.code).to.equal('publish_conflict');
    await second.element.updateComplete;
    expect(query(second.element, '[part="error"]')!.textContent).to.contain('This channel is already live from somewhere else.');
    expect(second.element.publishState).to.equal('previewing');
    expect(element.publishState, 'the first publisher is undisturbed').to.equal('live');

    // Camera to screen while live: the same session carries the new track (no new offer, no new grant).
    const videoSelect = query<HTMLSelectElement>(element, '#publish-video')!;
    videoSelect.focus();
    await sendKeys({ press: 'End' }); // Share screen
    await waitUntil(() => videoSelect.value === 'screen' && (query<HTMLVideoElement>(element, 'video')!.srcObject as MediaStream).getVideoTracks()[0]!.getSettings().displaySurface !== undefined, 'sharing the screen', { timeout: 10_000 });
    const filesBefore = (await whipServer.session(sessionId)).files.length;
    await waitUntil(async () => (await whipServer.session(sessionId)).files.length > filesBefore + 3, 'the ladder goes on with the screen', { timeout: 30_000, interval: 500 });
    expect([element.publishState, element.publishSessionUrl], 'the same session, still live').to.deep.equal(['live', sessionUrl]);

    const endedAt = performance.now();
    await pressButton(element, 'end');
    expect(element.publishState, 'End pressed').to.equal('ending');
    await waitUntil(() => element.publishState === 'previewing', 'ended', { timeout: 30_000, interval: 50 });
    console.log(`End -> the server confirmed (DELETE answered): ${Math.round(performance.now() - endedAt)} ms`);
    await element.updateComplete;
    expect(statusLine(element)).to.equal('The broadcast has ended');
    expect(element.publishSessionUrl).to.equal(undefined);
    expect(shadow(element).activeElement, 'Go live has the focus again').to.equal(action(element, 'go-live'));
    await waitUntil(async () => (await whipServer.session(sessionId)).offline === 1, 'the origin signalled the end', { timeout: 10_000, interval: 250 });
    expect((await fetch(sessionUrl, { method: 'DELETE' })).status, 'the session is gone').to.equal(404);
    expect(grants.length, 'one grant, one session').to.equal(1);
  });

  it('when the server ends the session under it, reconnects with a new grant and a new session, until End', async function () {
    this.timeout(180_000);
    const channel = 'acme/reconnect-show';
    await whipServer.createChannel(channel);
    const { element, grants } = await publisher(endpoint, channel);
    opened.push(element);
    await element.startPreview();
    await element.goLive();
    await waitUntil(() => element.publishState === 'live', 'live', { timeout: 30_000 });
    const first = element.publishSessionUrl!;

    const announced: string[] = [];
    const observer = new MutationObserver(() => announced.push(statusLine(element) ?? ''));
    observer.observe(query(element, '[part="status"]')!, { childList: true, characterData: true, subtree: true });
    const lostAt = performance.now();
    expect((await fetch(first, { method: 'DELETE' })).status).to.equal(200); // as if the origin's replica went away
    await waitUntil(() => element.publishState === 'reconnecting', 'reconnecting', { timeout: 45_000, interval: 50 });
    console.log(`session ended at the server -> element reconnecting: ${Math.round(performance.now() - lostAt)} ms`);
    await waitUntil(() => element.publishState === 'live' && element.publishSessionUrl !== first, 'live again on a new session', { timeout: 45_000, interval: 50 });
    console.log(`session ended at the server -> live again: ${Math.round(performance.now() - lostAt)} ms; announced: ${announced.join(' | ')}`);
    observer.disconnect();
    expect(announced.some((text) => /^Connection lost: reconnecting in \d+ s \(attempt 1\)$/.test(text)), announced.join(' | ')).to.equal(true);
    expect(grants.length, 'a fresh grant for the new session').to.equal(2);
    await element.endLive();
    expect(element.publishState).to.equal('previewing');
  });
});

describe('<live-upload publish>: offline and back', () => {
  let endpoint = '';
  before(async function (this: MochaContext) {
    this.timeout(60_000);
    const found = await whipServer.url();
    if (!found) this.skip();
    endpoint = found;
  });

  it('keeps retrying with backoff while the page is offline, and reconnects as soon as it is back online', async function () {
    this.timeout(150_000);
    const channel = 'acme/offline-show';
    await whipServer.createChannel(channel);
    const grants: string[] = [];
    // As a host page's grant source behaves: its backend cannot be reached while the page is offline.
    const grant = async () => {
      if (!navigator.onLine) throw new TypeError('Failed to fetch');
      const token = await whipServer.grant({ channel });
      grants.push(token);
      return token;
    };
    const element = await fixture<LiveUpload>(html`<live-upload publish endpoint=${endpoint} channel=${channel} .publishGrant=${grant}></live-upload>`);
    opened.push(element);
    await element.startPreview();
    await element.goLive();
    await waitUntil(() => element.publishState === 'live', 'live', { timeout: 30_000 });
    const first = element.publishSessionUrl!;

    const announced: string[] = [];
    const observer = new MutationObserver(() => announced.push(statusLine(element) ?? ''));
    observer.observe(query(element, '[part="status"]')!, { childList: true, characterData: true, subtree: true });
    let onlineAt = 0;
    let wentOffline = false;
    window.addEventListener('offline', () => (wentOffline = true), { once: true });
    window.addEventListener('online', () => (onlineAt = performance.now()), { once: true });
    // The session is gone at the server and the page loses its network (Chrome's offline mode; a
    // command's answer waits for the network, so the session is ended first).
    expect(await whipServer.endSession(whipSessionId(first))).to.equal(200);
    const offlineMs = 18_000;
    const offlineAt = performance.now();
    await dropNetwork(offlineMs);
    await waitUntil(() => onlineAt > 0, 'back online (the page’s online event)', { timeout: 30_000, interval: 50 });
    expect(wentOffline, 'the page went offline').to.equal(true);
    await waitUntil(() => element.publishState === 'live', 'live again', { timeout: 20_000, interval: 50 });
    const liveAfterOnlineMs = performance.now() - onlineAt;
    observer.disconnect();
    const attempts = announced.filter((text) => text.startsWith('Connection lost'));
    console.log(
      `offline ${Math.round(onlineAt - offlineAt)} ms: ${attempts.length} attempts (after ${attempts.map((text) => /in (\d+) s/.exec(text)?.[1]).join(', ')} s); back online -> live ${Math.round(liveAfterOnlineMs)} ms`,
    );
    expect(attempts.length, attempts.join(' | ')).to.be.at.least(3);
    expect(attempts.map((text) => Number(/in (\d+) s/.exec(text)?.[1])), 'the backoff doubles').to.deep.equal(attempts.map((_, i) => 2 ** i));
    expect(liveAfterOnlineMs, 'reconnects at once when back online, not at the next backoff').to.be.below(5000);
    expect(element.publishSessionUrl).to.not.equal(first);
    expect(grants.length, 'a grant for the first session and one for the new one').to.equal(2);
  });
});

describe('<live-upload publish>: caps and cleanup', () => {
  let endpoint = '';
  before(async function (this: MochaContext) {
    this.timeout(60_000);
    const found = await whipServer.url();
    if (!found) this.skip();
    endpoint = found;
  });

  it('sends at most publish-max-kbps, and a publisher element taken out of the page ends its session', async function () {
    this.timeout(120_000);
    const channel = 'acme/capped-show';
    await whipServer.createChannel(channel);
    const grant = () => whipServer.grant({ channel });
    const element = await fixture<LiveUpload>(html`<live-upload publish publish-max-kbps="100" endpoint=${endpoint} channel=${channel} .publishGrant=${grant}></live-upload>`);
    await element.startPreview();
    await element.goLive();
    await waitUntil(() => element.publishState === 'live', 'live', { timeout: 30_000 });
    const sessionUrl = element.publishSessionUrl!;
    // The connection line, every second: "Connection: connected · sending 123 kb/s".
    const sentKbps = () => {
      const match = /sending ([\d.]+) (Mb|kb)\/s$/.exec(query(element, '[part="publish-connection"]')?.textContent ?? '');
      return match ? Number(match[1]) * (match[2] === 'Mb' ? 1000 : 1) : undefined;
    };
    await waitUntil(() => sentKbps() !== undefined, 'bitrate shown', { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the encoder settles on the cap
    const readings: number[] = [];
    for (let i = 0; i < 5; i++) {
      readings.push(sentKbps()!);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    console.log(`publish-max-kbps=100: sent ${readings.join(', ')} kb/s (video, Opus and RTP headers)`);
    const sorted = [...readings].sort((a, b) => a - b);
    expect(sorted[2], 'median under the video cap plus Opus and headers').to.be.below(100 + 70);

    const sessionId = whipSessionId(sessionUrl);
    await waitUntil(async () => (await whipServer.session(sessionId)).online === 1, 'the origin has the session live', { timeout: 60_000, interval: 500 });
    element.remove(); // the page navigates away or drops the element: nothing is left live
    await waitUntil(async () => (await whipServer.session(sessionId)).offline === 1, 'the session ended at the server', { timeout: 30_000, interval: 250 });
    expect((await fetch(sessionUrl, { method: 'DELETE' })).status, 'gone').to.equal(404);
  });
});

async function expectNoAxe(element: Element, state: string): Promise<void> {
  const { violations } = await (await axe()).run(element);
  expect(violations.map((violation) => `${violation.id}: ${violation.help}`), state).to.deep.equal([]);
}
