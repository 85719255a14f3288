import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import { startFakeFediverse, type FakeFediverse } from '../../../test/fakes/fediverse/fediverse-server.js';
import { eventually } from '../../../test/support/eventually.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { offlineRecord } from '../../../test/support/live-metadata-fixture.js';
import { FEDERATION_ADMIN_TOKEN, TRUSTING_FEDERATION, metricSample, startFederationServer, type FederationServer } from './federation-test-server.js';
import { auditRecordSchema, type AuditRecord } from '../audit/index.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, decodeJson, encodeJson, type Bus } from '../bus/index.js';

const ADMIN = FEDERATION_ADMIN_TOKEN;
const HANDLE = 'acme.news';
const CANONICAL = 'stream:acme:news:01JF0000000000000000000001';

function status(overrides: Partial<LiveMetadata>): LiveMetadata {
  return offlineRecord('acme/news', { badge: { label: 'Offline', color: '#666', animate: false }, updated_at: new Date().toISOString(), seq: 1, ...overrides });
}

/** The newest audit records on the bus (newest first). */
async function auditRecords(bus: Bus): Promise<AuditRecord[]> {
  const stored = await bus.readLatest(STREAMS.audit.name, { limit: 200 });
  return stored.map((message) => decodeJson(message.data, auditRecordSchema));
}


describeEachBus('federation against a fake fediverse server', (busUnderTest) => {
  let bus: Bus;
  let fake: FakeFediverse;
  let ours: FederationServer;
  let actorId = '';
  let inbox = '';

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    fake = await startFakeFediverse();
    ours = await startFederationServer(bus, TRUSTING_FEDERATION, true);
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
    await bus.publish(SUBJECTS.liveStatus({ publisher: 'acme', slug: 'news' }), encodeJson(status({ status: 'live', canonical_id: CANONICAL, title: 'Evening <news>', viewer_count: 12, seq: 3 })));
    await bus.publish(SUBJECTS.liveStatus({ publisher: 'acme', slug: 'news' }), encodeJson(status({ status: 'offline', seq: 4 })));
    const deleted = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Delete'), 'the Delete');
    assert.equal(deleted.verified, true, deleted.problem);
    assert.equal((deleted.activity['object'] as { id: string }).id, note.id);
    assert.equal(fake.received.filter((entry) => entry.activity['type'] === 'Create').length, 2, 'one Create (and its retry), not one per status');
    assert.equal(fake.received.filter((entry) => entry.activity['type'] === 'Update').length, 0, 'a viewer count is not an Update');
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
    const guarded = await startFederationServer(bus, { ...TRUSTING_FEDERATION, allowPrivateHosts: [] }, false);
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
  it('sends an Update of the note when the title changes while live: one per change that reached live.status, none for a status that changes nothing', async () => {
    const ref = { publisher: 'acme', slug: 'news' };
    const live = 'stream:acme:news:01JF0000000000000000000003';
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const updatesOf = () => fake.received.filter((entry) => entry.activity['type'] === 'Update' && JSON.stringify(entry.activity).includes(encodeURIComponent(live)));
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'live', canonical_id: live, title: 'First title', started_at: startedAt, seq: 7 })));
    const create = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Create' && JSON.stringify(entry.activity).includes(encodeURIComponent(live))), 'the Create');
    const created = create.activity['object'] as { id: string; published: string };

    // A viewer-count change (same title), then two title changes, then a redelivered copy of the last.
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'live', canonical_id: live, title: 'First title', started_at: startedAt, viewer_count: 40, seq: 8 })));
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'live', canonical_id: live, title: 'Second <title>', started_at: startedAt, seq: 9 })));
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'live', canonical_id: live, title: 'Third title', started_at: startedAt, seq: 10 })));
    await eventually(async () => (await ours.federation.announcements.get(ref))?.seq === 10, 'the statuses decided on');
    await ours.federation.announcer.announce(ref, status({ status: 'live', canonical_id: live, title: 'Third title', started_at: startedAt, seq: 10 }));
    const updates = await eventually(() => (updatesOf().length >= 2 ? updatesOf() : undefined), 'two Updates');
    // Let anything extra arrive before counting: the Delete below goes after every Update.
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'offline', seq: 11 })));
    await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Delete' && JSON.stringify(entry.activity).includes(encodeURIComponent(live))), 'the Delete');
    assert.equal(updatesOf().length, 2, 'one Update per title change, none for the viewer count or the repeat');
    const notes = updates.map((entry) => entry.activity['object'] as { id: string; type: string; content: string; published: string; updated: string });
    for (const entry of updates) assert.equal(entry.verified, true, entry.problem);
    assert.match(notes[0]!.content, /Second &#60;title&#62;/);
    assert.match(notes[1]!.content, /Third title/);
    for (const note of notes) {
      assert.equal(note.id, created.id, 'the Update is of the same note');
      assert.equal(note.type, 'Note');
      assert.equal(note.published, created.published, 'published stays the first one');
      assert.ok(note.updated, 'updated is set');
    }
    assert.notEqual(updates[0]!.activity['id'], updates[1]!.activity['id']);
  });

  it('shows the updated note in the outbox while live', async () => {
    const ref = { publisher: 'acme', slug: 'news' };
    const live = 'stream:acme:news:01JF0000000000000000000004';
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'live', canonical_id: live, title: 'Before', seq: 12 })));
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'live', canonical_id: live, title: 'After', seq: 13 })));
    await eventually(async () => (await ours.federation.announcements.get(ref))?.seq === 13, 'the statuses decided on');
    const outbox = await fake.fetchJson(`${actorId}/outbox`);
    const items = outbox.body['orderedItems'] as Array<{ type: string; object: { content: string } }>;
    assert.equal(items.length, 1);
    assert.equal(items[0]!.type, 'Create');
    assert.match(items[0]!.object.content, /After/);
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(status({ status: 'offline', seq: 14 })));
    await eventually(async () => (await ours.federation.announcements.get(ref))?.ended === true, 'the end');
  });

  it('audits the admin blocking and unblocking a domain and an actor', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const ids: string[] = [];
    for (const input of [{ kind: 'domain', value: 'Bad.Example' }, { kind: 'actor', value: 'https://elsewhere.example/users/mallory' }]) {
      const created = await fetch(`${ours.base}/api/v1/federation/blocks`, { method: 'POST', headers: admin, body: JSON.stringify(input) });
      assert.equal(created.status, 201);
      const block = (await created.json()) as { id: string };
      ids.push(block.id);
      assert.equal((await fetch(`${ours.base}/api/v1/federation/blocks/${block.id}`, { method: 'DELETE', headers: admin })).status, 204);
    }
    const missing = await fetch(`${ours.base}/api/v1/federation/blocks/${ids[0]!}`, { method: 'DELETE', headers: admin });
    assert.equal(missing.status, 404, 'an unblock of nothing is a 404 and is not audited');
    const records = await auditRecords(bus);
    for (const id of ids) {
      const mine = records.filter((record) => record.target === id).map((record) => [record.action, record.actor]);
      assert.deepEqual(mine, [['federation.block.removed', 'admin'], ['federation.block.added', 'admin']], id);
    }
    const domain = records.find((record) => record.target === ids[0] && record.action === 'federation.block.added');
    assert.deepEqual(domain?.details, { kind: 'domain', value: 'bad.example' });
  });

  it('dead-letters a delivery that spent its retries; another replica lists it, retries it (delivered, audited) or discards it', async () => {
    const flaky = await startFakeFediverse();
    const replicaBus = busUnderTest.natsUrl() ? await createNatsBus({ url: busUnderTest.natsUrl()! }) : bus;
    const replica = await startFederationServer(replicaBus, TRUSTING_FEDERATION, false);
    const admin = { authorization: `Bearer ${ADMIN}` };
    try {
      const deadBefore = await metricSample(ours.registry, 'live_upload_federation_deliveries_total', { activity: 'Accept', outcome: 'dead_lettered' });
      // Every attempt of the Accept fails (the first and three retries): it is dead-lettered.
      flaky.failNext.push(503, 503, 503, 503);
      const first = await flaky.follow(actorId, inbox);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      const listed = await eventually(async () => {
        const page = (await (await fetch(`${replica.base}/api/v1/federation/dead-letters?limit=200`, { headers: admin })).json()) as { dead_letters: Array<Record<string, unknown>>; next_after: string | null };
        return page.dead_letters.find((letter) => letter['inbox'] === flaky.inbox);
      }, 'the dead letter, seen from the other replica');
      assert.equal(flaky.received.length, 4, 'four attempts');
      assert.equal(listed['activity_type'], 'Accept');
      assert.equal(listed['attempts'], 4);
      assert.equal(listed['last_error'], 'status 503');
      assert.equal(listed['activity'], undefined, 'the list has no bodies');
      assert.equal(await metricSample(ours.registry, 'live_upload_federation_deliveries_total', { activity: 'Accept', outcome: 'dead_lettered' }), deadBefore + 1);
      assert.ok((await metricSample(ours.registry, 'live_upload_federation_delivery_attempts_total', { activity: 'Accept', outcome: 'failed' })) >= 4);

      const one = await fetch(`${replica.base}/api/v1/federation/dead-letters/${String(listed['delivery_id'])}`, { headers: admin });
      assert.equal(one.status, 200);
      assert.equal(((await one.json()) as { activity: string }).activity.includes(first.followId), true, 'the full letter has the body');

      const retried = await fetch(`${replica.base}/api/v1/federation/dead-letters/${String(listed['delivery_id'])}/retry`, { method: 'POST', headers: admin });
      assert.equal(retried.status, 202);
      const accepted = await eventually(() => (flaky.received.length >= 5 ? flaky.received[4] : undefined), 'the retried Accept');
      assert.equal(accepted.verified, true, accepted.problem);
      assert.equal(accepted.activity['type'], 'Accept');
      const gone = await fetch(`${replica.base}/api/v1/federation/dead-letters/${String(listed['delivery_id'])}`, { headers: admin });
      assert.equal(gone.status, 404, 'a retried dead letter is gone from the list');
      assert.equal((await fetch(`${replica.base}/api/v1/federation/dead-letters/${String(listed['delivery_id'])}/retry`, { method: 'POST', headers: admin })).status, 404);

      // A second one, discarded.
      flaky.failNext.push(503, 503, 503, 503);
      assert.equal((await flaky.follow(actorId, inbox)).status, 202);
      const second = await eventually(async () => {
        const page = (await (await fetch(`${ours.base}/api/v1/federation/dead-letters`, { headers: admin })).json()) as { dead_letters: Array<Record<string, unknown>> };
        return page.dead_letters.find((letter) => letter['inbox'] === flaky.inbox);
      }, 'the second dead letter');
      assert.equal((await fetch(`${replica.base}/api/v1/federation/dead-letters/${String(second['delivery_id'])}`, { method: 'DELETE', headers: admin })).status, 204);
      assert.equal((await fetch(`${ours.base}/api/v1/federation/dead-letters/${String(second['delivery_id'])}`, { headers: admin })).status, 404);

      const records = await auditRecords(bus);
      assert.ok(records.some((record) => record.action === 'federation.dead_letter.retried' && record.target === listed['delivery_id'] && record.actor === 'admin'));
      assert.ok(records.some((record) => record.action === 'federation.dead_letter.discarded' && record.target === second['delivery_id']));
    } finally {
      await replica.close();
      if (replicaBus !== bus) await replicaBus.close();
      await flaky.close();
    }
  });

  it('pages the dead letters with limit and after, and answers bad input with JSON 400s and unknown ids with 404s', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const url: string = `${ours.base}/api/v1/federation/dead-letters?limit=1${after ? `&after=${after}` : ''}`;
      const page = (await (await fetch(url, { headers: admin })).json()) as { dead_letters: Array<{ delivery_id: string }>; next_after: string | null };
      assert.ok(page.dead_letters.length <= 1);
      seen.push(...page.dead_letters.map((letter) => letter.delivery_id));
      after = page.next_after;
    } while (after !== null);
    const all = (await (await fetch(`${ours.base}/api/v1/federation/dead-letters?limit=200`, { headers: admin })).json()) as { dead_letters: Array<{ delivery_id: string }> };
    assert.deepEqual(seen, all.dead_letters.map((letter) => letter.delivery_id), 'pages of one give the whole list, in order, once');

    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'after=nope', 'bogus=1', 'limit=1&limit=2']) {
      const response = await fetch(`${ours.base}/api/v1/federation/dead-letters?${query}`, { headers: admin });
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'bad_request', query);
    }
    for (const [method, path] of [['GET', 'fed_0123'], ['POST', `fed_${'0'.repeat(32)}/retry`], ['DELETE', '..%2F..']] as const) {
      const response = await fetch(`${ours.base}/api/v1/federation/dead-letters/${path}`, { method, headers: admin });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'not_found');
    }
    assert.equal((await fetch(`${ours.base}/api/v1/federation/dead-letters`)).status, 401);
  });

  it('counts inbox refusals by reason and follows by change', async () => {
    const counted = (reason: string) => metricSample(ours.registry, 'live_upload_federation_inbox_refusals_total', { reason });
    const cases: Array<[string, Parameters<FakeFediverse['follow']>[2]]> = [
      ['unsigned', { unsigned: true }],
      ['bad_signature', { badSignature: true }],
      ['digest', { wrongDigest: true }],
      ['date', { dateOffsetMs: 2 * 60 * 60 * 1000 }],
      ['too_large', { padToBytes: 300 * 1024 }],
    ];
    for (const [reason, tampering] of cases) {
      const before = await counted(reason);
      await fake.follow(actorId, inbox, tampering);
      assert.equal(await counted(reason), before + 1, reason);
    }
    // Earlier tests of this suite: the blocked domain's Follow, the deleted account's Follow.
    assert.ok((await counted('blocked')) >= 1, 'blocked');
    assert.ok((await counted('signer_gone')) >= 1, 'signer_gone');
    const mismatched = await counted('actor_mismatch');
    await fake.post(inbox, { id: `${fake.actorId}#y`, type: 'Follow', actor: 'https://elsewhere.example/users/mallory', object: actorId });
    assert.equal(await counted('actor_mismatch'), mismatched + 1);
    const followed = await metricSample(ours.registry, 'live_upload_federation_follows_total', { change: 'followed' });
    const unfollowed = await metricSample(ours.registry, 'live_upload_federation_follows_total', { change: 'unfollowed' });
    const follow = await fake.follow(actorId, inbox);
    assert.equal(follow.status, 202);
    const undo = await fake.post(inbox, { id: `${fake.actorId}#undo`, type: 'Undo', actor: fake.actorId, object: { id: follow.followId, type: 'Follow', actor: fake.actorId, object: actorId } });
    assert.equal(undo.status, 202);
    assert.equal(await metricSample(ours.registry, 'live_upload_federation_follows_total', { change: 'followed' }), followed + 1);
    assert.equal(await metricSample(ours.registry, 'live_upload_federation_follows_total', { change: 'unfollowed' }), unfollowed + 1);
    assert.ok((await metricSample(ours.registry, 'live_upload_federation_deliveries_total', { activity: 'Accept', outcome: 'delivered' })) >= 1);
    const text = await ours.registry.metrics();
    assert.match(text, /live_upload_federation_delivery_attempt_seconds_bucket\{le="[0-9.]+",activity="Accept"\}/);
  });

  it('lets the admin list a channel\'s followers and remove one: its server gets a signed Reject of the follow, and it is audited', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const follow = await fake.follow(actorId, inbox);
    assert.equal(follow.status, 202);
    const page = (await (await fetch(`${ours.base}/api/v1/federation/channels/acme/news/followers`, { headers: admin })).json()) as { followers: Array<{ id: string; actor: string; follow_id: string | null }>; next_after: string | null };
    const alice = page.followers.find((follower) => follower.actor === fake.actorId);
    assert.ok(alice, JSON.stringify(page));
    assert.equal(alice.follow_id, follow.followId);
    const countBefore = (await fake.fetchJson(`${actorId}/followers`)).body['totalItems'] as number;

    const removed = await fetch(`${ours.base}/api/v1/federation/channels/acme/news/followers/${alice.id}`, { method: 'DELETE', headers: admin });
    assert.equal(removed.status, 204);
    const reject = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Reject'), 'the Reject');
    assert.equal(reject.verified, true, reject.problem);
    assert.equal(reject.path, '/users/alice/inbox');
    assert.deepEqual(reject.activity['object'], { id: follow.followId, type: 'Follow', actor: fake.actorId, object: actorId });
    assert.equal((await fake.fetchJson(`${actorId}/followers`)).body['totalItems'], countBefore - 1);
    const audited = (await auditRecords(bus)).find((record) => record.action === 'federation.follower.removed');
    assert.equal(audited?.actor, 'admin');
    assert.equal(audited?.target, 'acme/news');
    assert.equal(audited?.details?.['follower'], fake.actorId);

    const again = await fetch(`${ours.base}/api/v1/federation/channels/acme/news/followers/${alice.id}`, { method: 'DELETE', headers: admin });
    assert.equal(again.status, 404);
    for (const [path, code] of [['/api/v1/federation/channels/ACME!/news/followers', 'invalid_channel'], ['/api/v1/federation/channels/acme/nobody/followers', 'not_found'], ['/api/v1/federation/channels/acme/news/followers?after=zz', 'bad_request']] as const) {
      const response = await fetch(`${ours.base}${path}`, { headers: admin });
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code, path);
    }
    // Alice follows again, for anything after this.
    assert.equal((await fake.follow(actorId, inbox)).status, 202);
  });
});
