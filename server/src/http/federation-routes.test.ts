import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeFediverse, type FakeFediverse } from '../../../test/fakes/fediverse/fediverse-server.js';
import { eventually } from '../../../test/support/eventually.js';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';

/**
 * The whole server: a Mastodon-like server finds the channel through WebFinger, follows it, and
 * gets a signed Create when Twitch says the channel went live, an Update when its title changes,
 * and a Delete when it went offline.
 */
describe('federation through the real server', () => {
  let server: TestServer;
  let fake: FakeFediverse;

  before(async () => {
    fake = await startFakeFediverse();
    server = await startTestServer({ env: { OUTBOUND_ALLOW_PRIVATE_HOSTS: '127.0.0.1', OUTBOUND_RETRY_SCHEDULE_MS: '50,50' } });
  });
  after(async () => {
    await server.close();
    await fake.close();
  });

  it('a follow from the fake fediverse gets the go-live Create, an Update per title change and the end Delete, signed', async () => {
    const actorId = await fake.webfinger(server.url, `acme.morning-show@${new URL(server.url).host}`);
    const actor = await fake.fetchJson(actorId);
    const followed = await fake.follow(actorId, String(actor.body['inbox']));
    assert.equal(followed.status, 202, JSON.stringify(followed.body));
    await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Accept'), 'the Accept');

    await server.goLive('Morning news');
    const create = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Create'), 'the Create', 15_000);
    assert.equal(create.verified, true, create.problem);
    const note = create.activity['object'] as { content: string; url: string; attachment: Array<Record<string, string>> };
    assert.match(note.content, /Morning news|acme\/morning-show/);
    assert.equal(note.url, `${server.url}/c/acme/morning-show`);
    // Twitch carries it: the preview is Twitch's live thumbnail of the login.
    assert.ok(note.attachment.some((item) => item['type'] === 'Image' && item['url'] === 'https://static-cdn.jtvnw.net/previews-ttv/live_user_acme_live-640x360.jpg'), JSON.stringify(note.attachment));

    // The title changes while live: followers get an Update of the same note, signed.
    await server.updateTitle('Evening news');
    const updated = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Update' && JSON.stringify(entry.activity).includes('Evening news')), 'the Update', 15_000);
    assert.equal(updated.verified, true, updated.problem);
    assert.equal((updated.activity['object'] as { id: string }).id, (create.activity['object'] as { id: string }).id, 'an Update of the go-live note');
    // A burst of changes: at most one Update per change, and the last one followers see is the last title.
    const before = fake.received.length;
    for (const title of ['Take one', 'Take two', 'Take three']) await server.updateTitle(title);
    await eventually(() => fake.received.slice(before).some((entry) => entry.activity['type'] === 'Update' && JSON.stringify(entry.activity).includes('Take three')), 'the last title\'s Update', 15_000);
    const burst = fake.received.slice(before).filter((entry) => entry.activity['type'] === 'Update');
    assert.ok(burst.length >= 1 && burst.length <= 3, `${burst.length} Updates for 3 changes`);
    assert.match((burst[burst.length - 1]!.activity['object'] as { content: string }).content, /Take three/);
    const registry = server.running.metrics.registry;
    const delivered = (await registry.getSingleMetric('live_upload_federation_deliveries_total')?.get())?.values ?? [];
    assert.ok(delivered.some((value) => value.labels['activity'] === 'Update' && value.labels['outcome'] === 'delivered' && value.value >= 1), JSON.stringify(delivered));

    await server.goOffline();
    const deleted = await eventually(() => fake.received.find((entry) => entry.activity['type'] === 'Delete'), 'the Delete', 15_000);
    assert.equal(deleted.verified, true, deleted.problem);
    for (const entry of fake.received) assert.equal(entry.verified, true, entry.problem);
  });

  it('answers an unknown actor and a foreign WebFinger host with JSON 404s', async () => {
    const unknown = await server.request('/ap/actors/acme.nobody');
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'not_found');
    const foreign = await server.request(`/.well-known/webfinger?resource=${encodeURIComponent('acct:acme.morning-show@elsewhere.example')}`);
    assert.equal(foreign.status, 404);
  });
});
