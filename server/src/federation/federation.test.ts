import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { SCHEMA_VERSION, type LiveMetadata } from '@live-upload/schema';
import { startFakeFediverse, type FakeFediverse } from '../../../test/fakes/fediverse/fediverse-server.js';
import { eventually } from '../../../test/support/eventually.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, encodeJson, type Bus } from '../bus/index.js';
import type { AppState } from '../http/app-state.js';
import { federationRoutes } from '../http/federation-routes.js';
import { errorHandler } from '../http/middleware/error-handler.js';
import { requireBearer } from '../http/middleware/require-bearer.js';
import { createLogger } from '../observability/index.js';
import { Federation, type FederationSettings } from './index.js';

const ADMIN = 'federation-admin-token';
const HANDLE = 'acme.news';
const CANONICAL = 'stream:acme:news:01JF0000000000000000000001';

function status(overrides: Partial<LiveMetadata>): LiveMetadata {
  return {
    version: SCHEMA_VERSION,
    canonical_id: null,
    channel: 'acme/news',
    providers: {},
    status: 'offline',
    started_at: null,
    ended_at: null,
    title: null,
    viewer_count: null,
    latency_ms: null,
    is_public: true,
    tags: [],
    badge: { label: 'Offline', color: '#666', animate: false },
    updated_at: new Date().toISOString(),
    seq: 1,
    sources: {},
    ...overrides,
  };
}

/** Our server: the federation routes on Koa with the app's error handler, on a real port. */
async function startOurServer(bus: Bus, settings: FederationSettings, workers: boolean): Promise<{ base: string; federation: Federation; close: () => Promise<void> }> {
  let base = '';
  const federation = await Federation.open({
    bus,
    logger: createLogger({ level: 'silent' }),
    settings,
    publicUrl: () => base,
    channelExists: async (ref) => ref.publisher === 'acme' && ref.slug === 'news',
    previewUrl: (ref) => `${base}/c/${ref.publisher}/${ref.slug}/preview.jpg`,
    workers,
  });
  const koa = new Koa<AppState>();
  koa.use(errorHandler());
  koa.use(federationRoutes({ federation, requireAdmin: requireBearer(() => [ADMIN]) }).routes());
  const server: Server = await new Promise((resolve) => {
    const listening = koa.listen(0, '127.0.0.1', () => resolve(listening));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await federation.start();
  return {
    base,
    federation,
    close: async () => {
      await federation.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const TRUSTING: FederationSettings = { requireHttps: false, allowPrivateHosts: ['127.0.0.1'], timeoutMs: 5000, retryScheduleMs: [50, 50, 50] };

describeEachBus('federation against a fake fediverse server', (busUnderTest) => {
  let bus: Bus;
  let fake: FakeFediverse;
  let ours: Awaited<ReturnType<typeof startOurServer>>;
  let actorId = '';
  let inbox = '';

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    fake = await startFakeFediverse();
    ours = await startOurServer(bus, TRUSTING, true);
  });
  after(async () => {
    await ours.close();
    await fake.close();
    await bus.close();
  });

  it('answers WebFinger for @publisher.slug and serves an actor with an RSA publicKeyPem, never the private key', async () => {
    actorId = await fake.webfinger(ours.base, `${HANDLE}@${new URL(ours.base).host}`);
    assert.equal(actorId, `${ours.base}/ap/actors/${HANDLE}`);
    const actor = await fake.fetchJson(actorId);
    assert.equal(actor.status, 200);
    assert.match(actor.contentType ?? '', /^application\/activity\+json/);
    const key = actor.body['publicKey'] as { id: string; owner: string; publicKeyPem: string };
    assert.equal(key.owner, actorId);
    assert.match(key.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.doesNotMatch(JSON.stringify(actor.body), /PRIVATE/);
    inbox = String(actor.body['inbox']);
    const again = await fake.fetchJson(actorId);
    assert.equal((again.body['publicKey'] as { publicKeyPem: string }).publicKeyPem, key.publicKeyPem, 'the key is created once');
    const unknown = await fake.fetchJson(`${ours.base}/ap/actors/acme.other`);
    assert.equal(unknown.status, 404);
  });

  it('accepts a signed Follow and delivers an Accept that http-signature verifies', async () => {
    const answer = await fake.follow(actorId, inbox);
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    const accept = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Accept'), 'the Accept');
    assert.equal(accept.verified, true, accept.problem);
    assert.match(accept.contentType ?? '', /^application\/activity\+json/);
    assert.equal(accept.path, '/users/alice/inbox', 'the Accept goes to the follower\'s own inbox');
    assert.equal((accept.activity['object'] as { id: string }).id, answer.followId);
    const followers = await fake.fetchJson(`${actorId}/followers`);
    assert.equal(followers.body['totalItems'], 1);
    assert.deepEqual(followers.body['orderedItems'], [], 'who follows is not published');
  });

  it('delivers a signed Create of a Note on go-live (retried after a 503) and a Delete when it ends', async () => {
    fake.failNext.push(503);
    await bus.publish(SUBJECTS.liveStatus({ publisher: 'acme', slug: 'news' }), encodeJson(status({ status: 'live', canonical_id: CANONICAL, title: 'Evening <news>', started_at: new Date().toISOString(), seq: 2 })));
    const creates = await eventually(() => {
      const found = fake.received.filter((entry) => entry.activity['type'] === 'Create');
      return found.length >= 2 ? found : undefined;
    }, 'the Create, retried');
    for (const create of creates) assert.equal(create.verified, true, create.problem);
    assert.equal(creates[1]!.path, '/inbox', 'public posts go to the shared inbox');
    const note = creates[1]!.activity['object'] as { type: string; content: string; url: string; id: string; attachment: Array<Record<string, string>> };
    assert.equal(note.type, 'Note');
    assert.match(note.content, /Evening &#60;news&#62;/);
    assert.equal(note.url, `${ours.base}/c/acme/news`);
    assert.ok(note.id.includes(encodeURIComponent(CANONICAL)));
    assert.ok(note.attachment.some((item) => item['value'] === CANONICAL));
    assert.ok(note.attachment.some((item) => item['type'] === 'Image'));
    const outbox = await fake.fetchJson(`${actorId}/outbox`);
    assert.equal(outbox.body['totalItems'], 1);

    // The same status again (a redelivery, a viewer-count change) announces nothing new.
    await bus.publish(SUBJECTS.liveStatus({ publisher: 'acme', slug: 'news' }), encodeJson(status({ status: 'live', canonical_id: CANONICAL, title: 'Evening', seq: 3 })));
    await bus.publish(SUBJECTS.liveStatus({ publisher: 'acme', slug: 'news' }), encodeJson(status({ status: 'offline', seq: 4 })));
    const deleted = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Delete'), 'the Delete');
    assert.equal(deleted.verified, true, deleted.problem);
    assert.equal((deleted.activity['object'] as { id: string }).id, note.id);
    assert.equal(fake.received.filter((entry) => entry.activity['type'] === 'Create').length, 2, 'one Create (and its retry), not one per status');
  });

  it('ignores a status record older than the last one decided on (records handled out of order)', async () => {
    const ref = { publisher: 'acme', slug: 'news' };
    const before = await ours.federation.announcements.get(ref);
    assert.ok(before);
    await ours.federation.announcer.announce(ref, status({ status: 'live', canonical_id: 'stream:acme:news:01JF0000000000000000000009', seq: before.seq - 1 }));
    assert.deepEqual(await ours.federation.announcements.get(ref), before);
  });

  describe('refuses hostile inbox POSTs with a JSON error', () => {
    const cases: Array<[string, Parameters<FakeFediverse['follow']>[2], number, RegExp]> = [
      ['unsigned', { unsigned: true }, 401, /must carry an HTTP Signature/],
      ['a bad signature', { badSignature: true }, 401, /does not verify/],
      ['a Digest of another body', { wrongDigest: true }, 401, /Digest header does not match/],
      ['a stale Date (two hours old)', { dateOffsetMs: 2 * 60 * 60 * 1000 }, 401, /too far from now/],
      ['an oversized body', { padToBytes: 300 * 1024 }, 413, /./],
    ];
    for (const [what, tampering, expected, message] of cases) {
      it(what, async () => {
        const answer = await fake.follow(actorId, inbox, tampering);
        assert.equal(answer.status, expected, JSON.stringify(answer.body));
        const error = answer.body['error'] as { code: string; message: string };
        assert.equal(error.code, expected === 401 ? 'unauthorized' : 'payload_too_large');
        assert.match(error.message, message);
      });
    }

    it('an activity whose actor is not the signer', async () => {
      const answer = await fake.post(inbox, { id: `${fake.actorId}#x`, type: 'Follow', actor: 'https://elsewhere.example/users/mallory', object: actorId });
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
    });
  });

  it('fetches a signer\'s actor once for many POSTs, and again when its key no longer verifies (rotated)', async () => {
    const before = fake.actorFetches();
    assert.equal((await fake.follow(actorId, inbox)).status, 202);
    assert.equal((await fake.follow(actorId, inbox)).status, 202);
    assert.equal(fake.actorFetches(), before, 'the key cached from earlier POSTs');
    fake.rotateKey();
    const answer = await fake.follow(actorId, inbox);
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    assert.equal(fake.actorFetches(), before + 1);
  });

  it('answers a deleted account\'s Delete of itself with 202 (unverifiable, changes nothing), and refuses its other activities', async () => {
    const leaving = await startFakeFediverse();
    try {
      leaving.markGone();
      const deleted = await leaving.post(inbox, { id: `${leaving.actorId}#delete`, type: 'Delete', actor: leaving.actorId, object: leaving.actorId });
      assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
      const follow = await leaving.follow(actorId, inbox);
      assert.equal(follow.status, 401, JSON.stringify(follow.body));
    } finally {
      await leaving.close();
    }
  });

  it('follows from a server in secure mode (authorized fetch): our GET of its actor is signed', async () => {
    const secure = await startFakeFediverse({ authorizedFetch: true });
    try {
      const unsigned = await fetch(secure.actorId, { headers: { accept: 'application/activity+json' } });
      assert.equal(unsigned.status, 401, 'the fake refuses unsigned fetches');
      const answer = await secure.follow(actorId, inbox);
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const accept = await eventually(() => secure.received.find((entry) => entry.activity['type'] === 'Accept'), 'the Accept');
      assert.equal(accept.verified, true, accept.problem);
    } finally {
      await secure.close();
    }
  });

  it('fetches the signer\'s actor under the SSRF rules: a private address is refused', async () => {
    const guarded = await startOurServer(bus, { ...TRUSTING, allowPrivateHosts: [] }, false);
    try {
      const answer = await fake.follow(`${guarded.base}/ap/actors/${HANDLE}`, `${guarded.base}/ap/actors/${HANDLE}/inbox`);
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.match((answer.body['error'] as { message: string }).message, /refused address range/);
    } finally {
      await guarded.close();
    }
  });

  it('gives a blocked domain nothing: its Follow is refused and it gets no announcements', async () => {
    const unauthorized = await fetch(`${ours.base}/api/v1/federation/blocks`, { method: 'POST', body: JSON.stringify({ kind: 'domain', value: '127.0.0.1' }) });
    assert.equal(unauthorized.status, 401);
    const created = await fetch(`${ours.base}/api/v1/federation/blocks`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'domain', value: '127.0.0.1' }) });
    assert.equal(created.status, 201);
    const block = (await created.json()) as { id: string };
    const refused = await fake.follow(actorId, inbox);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));

    const second = 'stream:acme:news:01JF0000000000000000000002';
    await bus.publish(SUBJECTS.liveStatus({ publisher: 'acme', slug: 'news' }), encodeJson(status({ status: 'live', canonical_id: second, title: 'Late', seq: 5 })));
    await eventually(async () => (await ours.federation.announcements.get({ publisher: 'acme', slug: 'news' }))?.canonical_id === second, 'the announcement');
    const removed = await fetch(`${ours.base}/api/v1/federation/blocks/${block.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(removed.status, 204);
    // Unblocked: the end of that broadcast goes out, and the Create made while blocked never did.
    await bus.publish(SUBJECTS.liveStatus({ publisher: 'acme', slug: 'news' }), encodeJson(status({ status: 'offline', seq: 6 })));
    await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Delete' && JSON.stringify(entry.activity).includes(encodeURIComponent(second))), 'the second Delete');
    assert.equal(fake.received.some((entry) => entry.activity['type'] === 'Create' && JSON.stringify(entry.activity).includes(encodeURIComponent(second))), false);
  });
});
