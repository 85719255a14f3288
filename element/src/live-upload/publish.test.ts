import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { LiveErrorDetail } from '../events.js';
import { axe } from '../testing/axe.js';
import { TEST_CHANNEL } from '../testing/live-server.js';
import { afterEach, describe, it } from '../testing/mocha.js';
import './live-upload.js';
import type { LiveUpload } from './live-upload.js';
import { declareSendSize, limitVideoSender, preferCodecs } from './publish-encoding.js';
import { bitrateBetween, sampleOutgoing } from './publish-stats.js';

// Chromium runs with --use-fake-device-for-media-stream --use-fake-ui-for-media-stream (see
// element/web-test-runner.config.mjs): a real capture pipeline with a generated camera picture
// and a beeping microphone, and permission granted without a prompt.

const shadow = (element: LiveUpload) => element.shadowRoot!;
const query = <T extends Element>(element: LiveUpload, selector: string) => shadow(element).querySelector<T>(selector);
const action = (element: LiveUpload, name: string) => query<HTMLElement>(element, `[data-action="${name}"]`);
const statusLine = (element: LiveUpload) => query(element, '[part="status"]')!.textContent;

async function expectNoAxeViolations(element: Element, state: string): Promise<void> {
  const { violations } = await (await axe()).run(element);
  expect(violations.map((violation) => `${violation.id}: ${violation.help}`), state).to.deep.equal([]);
}

/** Presses Enter on the element's `name` button, as a keyboard user would (a real key press: a user activation for the AudioContext). */
async function pressButton(element: LiveUpload, name: string): Promise<void> {
  const target = action(element, name);
  expect(target, `${name} button`).to.not.equal(null);
  target!.focus();
  expect(shadow(element).activeElement, `${name} has the focus`).to.equal(target);
  await sendKeys({ press: 'Enter' });
}

/** A publisher element with the fake camera previewing, started from the keyboard. */
async function previewing(markup = html`<live-upload publish channel=${TEST_CHANNEL}></live-upload>`): Promise<LiveUpload> {
  const element = await fixture<LiveUpload>(markup);
  await pressButton(element, 'start-camera');
  await waitUntil(() => element.publishState === 'previewing', 'previewing', { timeout: 10_000 });
  await element.updateComplete;
  return element;
}

let opened: LiveUpload[] = [];
afterEach(async () => {
  for (const element of opened) await element.stopPreview();
  opened = [];
});

describe('<live-upload publish>: the publisher before going live', () => {
  it('starts the fake camera from the keyboard and previews it, muted, with the focus on Go live', async function () {
    this.timeout(30_000);
    const element = await fixture<LiveUpload>(html`<live-upload publish channel=${TEST_CHANNEL}></live-upload>`);
    opened.push(element);
    expect(element.getAttribute('publish-state')).to.equal('idle');
    expect(query(element, 'video')).to.equal(null);
    expect(action(element, 'clip'), 'no viewer actions in publisher mode').to.equal(null);
    await expectNoAxeViolations(element, 'idle');

    await pressButton(element, 'start-camera');
    await waitUntil(() => element.publishState === 'previewing', 'previewing', { timeout: 10_000 });
    await element.updateComplete;
    expect(element.getAttribute('publish-state')).to.equal('previewing');
    const video = query<HTMLVideoElement>(element, 'video[part="publish-preview"]')!;
    expect(video.muted && video.playsInline, 'muted, inline').to.equal(true);
    expect(video.getAttribute('aria-label')).to.equal('Your camera preview');
    await waitUntil(() => video.videoWidth > 0 && video.currentTime > 0.2, 'the preview plays the camera', { timeout: 10_000 });
    expect(Math.min(video.videoWidth, video.videoHeight), 'short side capped at 720').to.be.within(1, 720);
    expect(statusLine(element)).to.equal('Preview: you are not live yet');
    expect(shadow(element).activeElement, 'focus moved to Go live').to.equal(action(element, 'go-live'));
    await expectNoAxeViolations(element, 'previewing');

    await pressButton(element, 'stop-camera');
    await waitUntil(() => element.publishState === 'idle', 'idle again');
    expect(query(element, 'video')).to.equal(null);
    expect(shadow(element).activeElement).to.equal(action(element, 'start-camera'));
  });

  it('lists the cameras and microphones by name, and switches microphone from the keyboard', async function () {
    this.timeout(30_000);
    const element = await previewing();
    opened.push(element);
    const videoSelect = query<HTMLSelectElement>(element, '#publish-video')!;
    const audioSelect = query<HTMLSelectElement>(element, '#publish-audio')!;
    await waitUntil(() => videoSelect.options.length > 0 && videoSelect.options[0]!.value !== '', 'cameras listed by id');
    const cameras = [...videoSelect.options].filter((option) => option.value !== 'screen');
    expect(cameras.length).to.be.at.least(1);
    expect(cameras.every((option) => option.textContent!.trim().length > 0)).to.equal(true);
    expect(videoSelect.value, 'the camera in use is selected by its id').to.not.equal('');
    const microphones = [...audioSelect.options].filter((option) => option.value !== 'none');
    expect(microphones.length, 'fake microphones').to.be.at.least(1);
    expect([...audioSelect.options].at(-1)!.textContent!.trim()).to.equal('No microphone');
    // labels: each picker is named by its <label>
    expect(query(element, 'label[for="publish-video"]')!.textContent).to.equal('Video source');
    expect(query(element, 'label[for="publish-audio"]')!.textContent).to.equal('Microphone');

    // To the last option (No microphone) with the keyboard: the meter goes, the stream has no audio.
    audioSelect.focus();
    await sendKeys({ press: 'End' });
    await waitUntil(() => audioSelect.value === 'none' && query(element, 'meter') === null, 'no microphone', { timeout: 5000 });
    expect(element.publishState).to.equal('previewing');
    // And back to the first microphone.
    await sendKeys({ press: 'Home' });
    await waitUntil(() => query(element, 'meter') !== null, 'a microphone again', { timeout: 5000 });
    expect(audioSelect.value).to.equal(audioSelect.options[0]!.value);
    await expectNoAxeViolations(element, 'device pickers');
  });

  it('shares the screen instead of the camera, picked from the keyboard, and goes back to a camera', async function () {
    this.timeout(30_000);
    const element = await previewing();
    opened.push(element);
    const videoSelect = query<HTMLSelectElement>(element, '#publish-video')!;
    const preview = query<HTMLVideoElement>(element, 'video[part="publish-preview"]')!;
    const cameraTrack = () => (query<HTMLVideoElement>(element, 'video[part="publish-preview"]')!.srcObject as MediaStream).getVideoTracks()[0]!;
    const camera = cameraTrack();
    expect(camera.getSettings().displaySurface).to.equal(undefined);
    expect([...videoSelect.options].at(-1)!.textContent!.trim()).to.equal('Share screen');
    videoSelect.focus();
    await sendKeys({ press: 'End' }); // Share screen, the last option
    await waitUntil(() => cameraTrack() !== camera, 'the preview shows another track', { timeout: 10_000 });
    expect(cameraTrack().getSettings().displaySurface, 'a display capture').to.be.a('string');
    expect(camera.readyState, 'the camera was turned off').to.equal('ended');
    expect(videoSelect.value).to.equal('screen');
    await sendKeys({ press: 'Home' });
    await waitUntil(() => cameraTrack().getSettings().displaySurface === undefined, 'a camera again', { timeout: 10_000 });
    expect(element.publishState).to.equal('previewing');
    expect(preview.isConnected).to.equal(true);
  });

  it('shows the fake microphone’s beeps on an accessible level meter', async function () {
    this.timeout(30_000);
    const element = await previewing();
    opened.push(element);
    const meter = () => query<HTMLMeterElement>(element, 'meter[part="publish-level"]')!;
    expect(meter().getAttribute('aria-label')).to.equal('Microphone level');
    expect([meter().min, meter().max]).to.deep.equal([0, 100]);
    const seen: number[] = [];
    const started = performance.now();
    while (performance.now() - started < 3000) {
      seen.push(meter().value);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const distinct = new Set(seen);
    expect(Math.max(...seen), `levels ${seen.join(',')}`).to.be.at.least(20);
    expect(distinct.size, 'the meter moves').to.be.at.least(3);
  });

  it('speaks German under lang="de" and French under lang="fr", errors included', async function () {
    this.timeout(30_000);
    const wrapper = await fixture<HTMLDivElement>(html`<div><p lang="de"><live-upload publish></live-upload></p><p lang="fr"><live-upload publish></live-upload></p></div>`);
    const [de, fr] = [...wrapper.querySelectorAll('live-upload')] as LiveUpload[];
    opened.push(de!, fr!);
    // Each element renders its publisher panel once the lazy publisher chunk is in: wait for both.
    await Promise.all([de!.updateComplete, fr!.updateComplete]);
    expect(action(de!, 'start-camera')!.textContent!.trim()).to.equal('Kamera einschalten');
    expect(action(fr!, 'start-camera')!.textContent!.trim()).to.equal('Allumer la caméra');
    expect(query(de!, '[part="publish"]')!.getAttribute('aria-label')).to.equal('Live gehen');
    await pressButton(de!, 'start-camera');
    await waitUntil(() => de!.publishState === 'previewing', 'de previewing', { timeout: 10_000 });
    await de!.updateComplete;
    expect(action(de!, 'go-live')!.textContent!.trim()).to.equal('Live gehen');
    expect(statusLine(de!)).to.equal('Vorschau: Sie sind noch nicht live');
    await de!.goLive(); // no publishGrant
    await de!.updateComplete;
    expect(query(de!, '[part="error"]')!.textContent).to.contain('Die Berechtigung zum Live-Gehen fehlt oder ist abgelaufen.');
    await fr!.startPreview();
    await fr!.updateComplete;
    expect(action(fr!, 'go-live')!.textContent!.trim()).to.equal('Passer en direct');
    expect(query(fr!, 'meter')!.getAttribute('aria-label')).to.equal('Niveau du micro');
  });

  it('without a grant, Go live says so in words, reports live-error publish_grant, and stays in preview', async function () {
    this.timeout(30_000);
    const element = await previewing();
    opened.push(element);
    const failed = oneEvent(element, 'live-error');
    await pressButton(element, 'go-live');
    const { detail } = (await failed) as CustomEvent<LiveErrorDetail>;
    expect(detail.code).to.equal('publish_grant');
    await waitUntil(() => element.publishState === 'previewing' && query(element, '[part="error"]'), 'back in preview with an error');
    expect(query(element, '[part="error"]')!.textContent).to.contain('The permission to go live is missing or has expired.');
    expect(shadow(element).activeElement, 'Try again has the focus').to.equal(action(element, 'retry'));
    await expectNoAxeViolations(element, 'error');

    // A grant source that throws (the host's backend is down) is the same sentence.
    element.publishGrant = () => Promise.reject(new Error('backend down'));
    const again = oneEvent(element, 'live-error');
    await sendKeys({ press: 'Enter' }); // Try again
    expect(((await again) as CustomEvent<LiveErrorDetail>).detail).to.deep.include({ code: 'publish_grant' });
    expect(element.publishState).to.equal('previewing');
  });
});

describe('publish encoding, in the real WebRTC stack', () => {
  it('offers H.264 (packetization-mode 1) first when the browser has it, else VP8, and Opus for sound', async () => {
    const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const connection = new RTCPeerConnection();
    try {
      const video = connection.addTransceiver(media.getVideoTracks()[0]!, { direction: 'sendonly' });
      const audio = connection.addTransceiver(media.getAudioTracks()[0]!, { direction: 'sendonly' });
      preferCodecs(video, 'video');
      preferCodecs(audio, 'audio');
      const { sdp } = await connection.createOffer();
      const section = (kind: string) => sdp!.split(/\r?\nm=/).find((part) => part.startsWith(kind))!;
      const firstCodec = (part: string) => {
        const payloadType = /^\w+ \d+ \S+ (\d+)/.exec(part)![1];
        return { rtpmap: new RegExp(`a=rtpmap:${payloadType} ([^\\r\\n]+)`).exec(part)![1], fmtp: new RegExp(`a=fmtp:${payloadType} ([^\\r\\n]+)`).exec(part)?.[1] ?? '' };
      };
      const hasH264 = RTCRtpSender.getCapabilities('video')!.codecs.some((codec) => /h264/i.test(codec.mimeType));
      const videoFirst = firstCodec(section('video'));
      console.log(`first video codec offered: ${videoFirst.rtpmap} ${videoFirst.fmtp}`);
      if (hasH264) {
        expect(videoFirst.rtpmap).to.match(/^H264\/90000/);
        expect(videoFirst.fmtp).to.contain('packetization-mode=1');
      } else {
        expect(videoFirst.rtpmap).to.match(/^VP8\/90000/);
      }
      expect(section('video')).to.not.match(/a=rtpmap:\d+ (VP9|AV1)/);
      expect(firstCodec(section('audio')).rtpmap).to.match(/^opus\/48000/);
      expect(section('audio')).to.not.match(/a=rtpmap:\d+ (G722|PCMU|PCMA)/);
    } finally {
      connection.close();
      for (const track of media.getTracks()) track.stop();
    }
  });

  it('declares the camera’s size in the offer it posts (RFC 6236 imageattr, video section only), after the size cap', async () => {
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
    const connection = new RTCPeerConnection();
    try {
      connection.addTransceiver(media.getAudioTracks()[0]!, { direction: 'sendonly' });
      connection.addTransceiver(media.getVideoTracks()[0]!, { direction: 'sendonly' });
      await connection.setLocalDescription(await connection.createOffer());
      const sdp = connection.localDescription!.sdp;
      const { width, height } = media.getVideoTracks()[0]!.getSettings();
      const declared = declareSendSize(sdp, width, height, 1);
      const sections = declared.split(/\r\n(?=m=)/);
      const videoSection = sections.find((section) => section.startsWith('m=video'))!;
      expect(videoSection).to.include(`\r\na=imageattr:* send [x=${width},y=${height}] recv *\r\n`);
      expect(sections.filter((section) => section.includes('a=imageattr')).length, 'only the video section').to.equal(1);
      expect(declared.replace(`a=imageattr:* send [x=${width},y=${height}] recv *\r\n`, '')).to.equal(sdp, 'nothing else changed');
      expect(declareSendSize(sdp, 1920, 1080, 1.5)).to.include('a=imageattr:* send [x=1280,y=720] recv *');
      expect(declareSendSize(sdp, undefined, undefined, 1)).to.equal(sdp);
    } finally {
      connection.close();
      for (const track of media.getTracks()) track.stop();
    }
  });

  it('caps the video sender’s bitrate and size, and the stats show what it sends', async function () {
    this.timeout(30_000);
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
    const sender = new RTCPeerConnection();
    const receiver = new RTCPeerConnection();
    sender.addEventListener('icecandidate', ({ candidate }) => void (candidate && receiver.addIceCandidate(candidate)));
    receiver.addEventListener('icecandidate', ({ candidate }) => void (candidate && sender.addIceCandidate(candidate)));
    try {
      const transceiver = sender.addTransceiver(media.getVideoTracks()[0]!, { direction: 'sendonly' });
      preferCodecs(transceiver, 'video');
      await sender.setLocalDescription(await sender.createOffer());
      await receiver.setRemoteDescription(sender.localDescription!);
      await receiver.setLocalDescription(await receiver.createAnswer());
      await sender.setRemoteDescription(receiver.localDescription!);
      await limitVideoSender(transceiver.sender, 300_000, 2);
      const encoding = transceiver.sender.getParameters().encodings[0]!;
      expect([encoding.maxBitrate, encoding.scaleResolutionDownBy]).to.deep.equal([300_000, 2]);
      await waitUntil(() => sender.connectionState === 'connected', 'loopback connected', { timeout: 10_000 });
      const first = await sampleOutgoing(sender);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const later = await sampleOutgoing(sender);
      const bitrate = bitrateBetween(first, later);
      console.log(`loopback: ${Math.round(bitrate / 1000)} kbit/s at ${later.frameWidth}x${later.frameHeight} (cap 300 kbit/s, scaled down by 2)`);
      expect(bitrate).to.be.above(10_000);
      expect(bitrate, 'within the cap (RTP headers and a little slack)').to.be.below(300_000 * 1.3);
      expect(later.frameHeight, 'scaled down by 2').to.be.at.most(360);
    } finally {
      sender.close();
      receiver.close();
      for (const track of media.getTracks()) track.stop();
    }
  });
});
