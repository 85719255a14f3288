import { expect, waitUntil } from '@open-wc/testing';
import { TEST_CHANNEL } from '../testing/live-server.js';
import { before, describe, it, type MochaContext } from '../testing/mocha.js';
import { whipServer } from '../testing/whip-server.js';
import { preferCodecs } from './publish-encoding.js';
import { deleteWhipSession, postWhipOffer, readWhipError, whipEndpointUrl, WhipError } from './whip-client.js';

/** A real offer from Chromium's WebRTC stack with the fake devices, every candidate gathered. */
async function realOffer(kinds: { video: boolean; audio: boolean }): Promise<{ sdp: string; connection: RTCPeerConnection; close(): void }> {
  const media = await navigator.mediaDevices.getUserMedia(kinds);
  const connection = new RTCPeerConnection();
  for (const track of media.getTracks()) preferCodecs(connection.addTransceiver(track, { direction: 'sendonly' }), track.kind as 'video' | 'audio');
  await connection.setLocalDescription(await connection.createOffer());
  while (connection.iceGatheringState !== 'complete') await new Promise((resolve) => connection.addEventListener('icegatheringstatechange', resolve, { once: true }));
  return {
    sdp: connection.localDescription!.sdp,
    connection,
    close: () => {
      connection.close();
      for (const track of media.getTracks()) track.stop();
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<WhipError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).to.be.instanceOf(WhipError);
  return error as WhipError;
}

describe('WHIP client, against the real server with our origin', () => {
  let endpoint = '';
  let url = '';
  before(async function (this: MochaContext) {
    this.timeout(60_000);
    const found = await whipServer.url();
    if (!found) this.skip(); // the origin's test server is not in this tree yet
    endpoint = found;
    url = whipEndpointUrl(endpoint, TEST_CHANNEL);
  });

  it('builds the channel’s endpoint from the element’s endpoint and channel', () => {
    expect(whipEndpointUrl('https://live.example/base/', 'acme/morning-show')).to.equal('https://live.example/base/api/v1/channels/acme/morning-show/whip');
    expect(new URL(url).pathname).to.equal(`/api/v1/channels/${TEST_CHANNEL}/whip`);
  });

  it('maps each refusal to what the publisher can do, with the server’s code: 401, 403, 413, 415, 422', async function () {
    this.timeout(30_000);
    const offer = await realOffer({ video: true, audio: true });
    const audioOnly = await realOffer({ video: false, audio: true });
    try {
      const missing = await refusal(postWhipOffer(url, '', offer.sdp));
      expect([missing.kind, missing.status, missing.code, missing.retryable]).to.deep.equal(['grant', 401, 'unauthorized', false]);
      const notOurs = await refusal(postWhipOffer(url, 'not-a-grant', offer.sdp));
      expect([notOurs.kind, notOurs.status, notOurs.code]).to.deep.equal(['forbidden', 403, 'forbidden']);

      const uploadOnly = await whipServer.grant({ capabilities: ['replay-upload'] });
      const forbidden = await refusal(postWhipOffer(url, uploadOnly, offer.sdp));
      expect([forbidden.kind, forbidden.status, forbidden.code]).to.deep.equal(['forbidden', 403, 'forbidden']);

      const otherChannel = await refusal(postWhipOffer(whipEndpointUrl(endpoint, 'acme/someone-else'), await whipServer.grant(), offer.sdp));
      expect([otherChannel.kind, otherChannel.status]).to.deep.equal(['forbidden', 403]);

      const grant = await whipServer.grant();
      const tooLarge = await refusal(postWhipOffer(url, grant, `${offer.sdp}a=x-padding:${'x'.repeat(70 * 1024)}\r\n`));
      expect([tooLarge.kind, tooLarge.status, tooLarge.code]).to.deep.equal(['too_large', 413, 'payload_too_large']);

      const noVideo = await refusal(postWhipOffer(url, grant, audioOnly.sdp));
      expect([noVideo.kind, noVideo.status, noVideo.code]).to.deep.equal(['codec', 422, 'unprocessable']);
      expect(noVideo.message).to.match(/no video/);

      // Our client always sends application/sdp; another client's text/plain gets a 415, read the same way.
      const wrongType = await readWhipError(
        await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${grant}` }, body: offer.sdp }),
      );
      expect([wrongType.kind, wrongType.status, wrongType.code]).to.deep.equal(['codec', 415, 'unsupported_media_type']);
    } finally {
      offer.close();
      audioOnly.close();
    }
  });

  it('opens a session with a real offer (201, SDP answer, Location, the server’s b=AS), refuses a second while it is connected (409), and DELETE ends it', async function () {
    this.timeout(30_000);
    const first = await realOffer({ video: true, audio: true });
    const second = await realOffer({ video: true, audio: true });
    try {
      const grant = await whipServer.grant();
      const answer = await postWhipOffer(url, grant, first.sdp);
      expect(answer.answerSdp).to.match(/^v=0/);
      expect(new URL(answer.sessionUrl).pathname).to.match(/^\/api\/v1\/whip\/sessions\/[0-9A-HJKMNP-TV-Z]{26}$/);
      // ORIGIN_MAX_BITRATE_KBPS (8000) by default, less Opus's 64 kbps in the audio section's own b=AS.
      expect(answer.maxBitrateKbps, 'the video share of ORIGIN_MAX_BITRATE_KBPS').to.equal(8000 - 64);
      expect(answer.answerSdp).to.match(/m=audio [^\r\n]*\r\n(?:[^m][^\r\n]*\r\n)*?b=AS:64\r\n/);

      await first.connection.setRemoteDescription({ type: 'answer', sdp: answer.answerSdp });
      await waitUntil(() => first.connection.connectionState === 'connected', 'media connected to the origin', { timeout: 10_000 });

      const reused = await refusal(postWhipOffer(url, grant, second.sdp));
      expect(['forbidden', 'conflict'], `a grant opens one session (${reused.status})`).to.include(reused.kind);
      const conflict = await refusal(postWhipOffer(url, await whipServer.grant(), second.sdp));
      expect([conflict.kind, conflict.status, conflict.code, conflict.retryable]).to.deep.equal(['conflict', 409, 'conflict', false]);

      await deleteWhipSession(answer.sessionUrl);
      await deleteWhipSession(answer.sessionUrl); // 404 now: ended is ended
      const after = await fetch(answer.sessionUrl, { method: 'DELETE' });
      expect(after.status).to.equal(404);
    } finally {
      first.close();
      second.close();
    }
  });
});
