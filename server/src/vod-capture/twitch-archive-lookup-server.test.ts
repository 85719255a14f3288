import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCanonicalId, type LiveMetadata } from '@live-upload/schema';
import { eventually } from '../../../test/support/eventually.js';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { startFakeHelix, type FakeHelix } from '../../../test/fakes/twitch/helix.js';
import { SUBJECTS, encodeJson } from '../bus/index.js';
import { initialChannelState } from '../pipeline/index.js';
import { VodStore } from '../vod-jobs/index.js';

/** The server wires the look-up when Helix credentials are configured: a Twitch-only broadcast's OFFLINE links its archive. */
describe('Twitch archive look-up in the server', () => {
  let helix: FakeHelix;
  let server: TestServer;

  before(async () => {
    helix = await startFakeHelix();
    server = await startTestServer({
      withChannel: false,
      env: { TWITCH_CLIENT_ID: helix.clientId, TWITCH_CLIENT_SECRET: helix.clientSecret, TWITCH_API_BASE_URL: helix.url, TWITCH_AUTH_BASE_URL: helix.url, BLUESKY_JETSTREAM_URL: 'off' },
    });
  });
  after(async () => {
    await server?.close();
    await helix?.close();
  });

  it('links the archive of the Twitch stream the LIVE record named to the broadcast\'s replay record', async () => {
    const ref = { publisher: 'acme', slug: 'twitch-wired' };
    const startMs = Date.now() - 3_600_000;
    const canonicalId = createCanonicalId(ref, startMs);
    const link = { id: null, user_id: '7301', login: 'acme', url: 'https://www.twitch.tv/acme' };
    const base = initialChannelState('acme/twitch-wired', startMs, { providers: { twitch: link } }).record;
    const live: LiveMetadata = { ...base, status: 'live', canonical_id: canonicalId, started_at: new Date(startMs).toISOString(), providers: { twitch: { ...link, id: '50000001' } }, seq: 1 };
    const offline: LiveMetadata = { ...live, status: 'offline', ended_at: new Date().toISOString(), providers: { twitch: link }, seq: 2 };
    helix.addVideo({ user_id: '7301', id: '6900', stream_id: '50000001', duration: '59m59s' });
    await server.running.bus.publish(SUBJECTS.liveStatus(ref), encodeJson(live));
    await server.running.bus.publish(SUBJECTS.liveStatus(ref), encodeJson(offline));
    const vods = await VodStore.open(server.running.bus);
    const record = await eventually(async () => (await vods.get(canonicalId))?.twitch_archive && (await vods.get(canonicalId)), 'the replay record with its Twitch archive');
    assert.equal(record?.state, 'external');
    assert.equal(record?.twitch_archive?.duration_s, 3599);
    assert.equal(record?.twitch_archive?.url, 'https://www.twitch.tv/videos/6900');
    assert.ok(helix.requests.some((request) => request.path === '/helix/videos' && request.status === 200));
  });
});
