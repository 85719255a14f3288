import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { parseChannelRef } from '@live-upload/schema';
import { eventually } from '../../../test/support/eventually.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { startFakeReceiver, verifyStandardWebhook, type FakeReceiver, type ReceivedWebhook } from '../../../test/fakes/standard-webhooks/receiver.js';
import { SUBJECTS, encodeJson } from '../bus/index.js';

const json = { 'Content-Type': 'application/json' };
const SECRET_A = `whsec_${Buffer.alloc(32, 0xa5).toString('base64')}`;

interface Subscriber {
  id: string;
  url: string;
  status: string;
  disabled_reason: string | null;
  secret?: string;
  secrets: Array<{ created_at: string; expires_at: string | null; secret?: string }>;
}
interface Delivery {
  delivery_id: string;
  webhook_id: string;
  status: string;
  attempts: number;
  dead_reason: string | null;
  last_error: string | null;
  replay_of: string | null;
  replayed_as: string[];
}

/** Answers per webhook id: the n-th attempt of one id gets `answers[n-1]` (the last one after that). */
function perIdScript(answers: Array<number | 'hang'>) {
  const attempts = new Map<string, number>();
  return ({ id }: { id: string | undefined }) => {
    const n = (attempts.get(id ?? '') ?? 0) + 1;
    attempts.set(id ?? '', n);
    return answers[Math.min(n, answers.length) - 1]!;
  };
}

describeEachBus('outbound webhooks', (bus) => {
  let server: TestServer;
  const receivers: FakeReceiver[] = [];

  before(async () => {
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      env: {
        OUTBOUND_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
        OUTBOUND_RETRY_SCHEDULE_MS: '100,150',
        OUTBOUND_TIMEOUT_MS: '600',
        OUTBOUND_CONNECT_TIMEOUT_MS: '300',
      },
    });
  });
  after(async () => {
    await server.close();
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  const receiver = async (options: Parameters<typeof startFakeReceiver>[0] = {}) => {
    const started = await startFakeReceiver(options);
    receivers.push(started);
    return started;
  };
  const api = (path: string, init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string>; admin?: boolean } = {}) =>
    server.request(`/api/v1/webhooks${path}`, {
      method: init.method ?? 'GET',
      admin: init.admin ?? true,
      headers: init.headers ?? (init.body !== undefined || init.raw !== undefined ? json : {}),
      ...(init.raw !== undefined ? { body: init.raw } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  const subscribe = async (body: Record<string, unknown>): Promise<Subscriber> => {
    const response = await api('/subscribers', { method: 'POST', body });
    assert.equal(response.status, 201, await response.clone().text());
    return (await response.json()) as Subscriber;
  };
  const deliveries = async (id: string) => ((await (await api(`/subscribers/${id}/deliveries`)).json()) as { deliveries: Delivery[] }).deliveries;
  const deadLetters = async (id: string) => ((await (await api(`/dead-letters?subscriber=${id}`)).json()) as { dead_letters: Delivery[] }).dead_letters;
  const liveStatus = (webhook: ReceivedWebhook) => webhook.payload?.type === 'live.status';
  let titles = 0;
  /**
   * A fresh canonical status change on the test channel; resolves with a predicate for its own
   * webhook. A title change can be coalesced and emitted after its test moved on, so each test
   * waits for the status carrying its own title, never just the first one to arrive.
   */
  const statusChange = async () => {
    titles += 1;
    const title = `Title ${titles}`;
    await server.goLive(title);
    return (webhook: ReceivedWebhook) => liveStatus(webhook) && webhook.payload?.data?.['title'] === title;
  };

  it('refuses the admin API without the admin token', async () => {
    for (const [method, path] of [['GET', '/subscribers'], ['POST', '/subscribers'], ['GET', '/dead-letters']] as const) {
      const response = await api(path, { method, admin: false, ...(method === 'POST' ? { body: { url: 'http://127.0.0.1:1/', events: ['live.status'] } } : {}) });
      assert.equal(response.status, 401, path);
    }
    const response = await api('/subscribers', { admin: false, headers: { Authorization: 'Bearer wrong-token-0123456789' } });
    assert.equal(response.status, 401);
  });

  it('refuses hostile subscriber input with a 400 naming the field', async () => {
    const good = { url: 'http://127.0.0.1:9/hook', events: ['live.status'] };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, url: 'not a url' }, /^url/],
      [{ ...good, url: 'ftp://127.0.0.1/x' }, /^url: must be an http/],
      [{ ...good, url: 'javascript:alert(1)' }, /^url/],
      [{ ...good, url: 'file:///etc/passwd' }, /^url/],
      [{ ...good, url: 'http://user:pw@127.0.0.1:9/hook' }, /^url: must not contain credentials/],
      [{ ...good, url: 'http://127.0.0.1:9/hook#x' }, /^url: must not contain a fragment/],
      [{ ...good, url: `http://127.0.0.1:9/${'a'.repeat(3000)}` }, /^url/],
      [{ ...good, url: `http://127.0.0.1:9/${'a'.repeat(5000)}` }, /^url/],
      [{ ...good, url: 'http://127.0.0.2:9/hook' }, /^url: .*loopback/],
      [{ ...good, url: 'http://0x7f.2/hook' }, /^url: .*loopback/],
      [{ ...good, url: 'http://2130706434/hook' }, /^url: .*loopback/],
      [{ ...good, url: 'http://[::ffff:127.0.0.1]/hook' }, /^url: .*ipv4_mapped/],
      [{ ...good, url: 'http://[::1]/hook' }, /^url: .*loopback/],
      [{ ...good, url: 'http://169.254.169.254/latest/meta-data/' }, /^url: .*link_local/],
      [{ ...good, url: 'http://10.0.0.1/hook' }, /^url: .*private/],
      [{ ...good, url: 'http://100.64.0.1/hook' }, /^url: .*cgnat/],
      [{ ...good, url: 'http://[fd00::1]/hook' }, /^url: .*unique_local/],
      [{ ...good, url: 'http://localhost:9/hook' }, /^url: .*loopback/],
      [{ ...good, url: 7 }, /^url/],
      [{ ...good, events: ['live.whatever'] }, /^events/],
      [{ ...good, events: [] }, /^events/],
      [{ ...good, events: ['live.status', 'live.status'] }, /^events/],
      [{ ...good, events: 'live.status' }, /^events/],
      [{ url: good.url }, /^events/],
      [{ ...good, channels: ['../etc'] }, /^channels/],
      [{ ...good, channels: ['Acme/Show'] }, /^channels/],
      [{ ...good, secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, /^secret/],
      [{ ...good, secret: `whsec_${Buffer.alloc(16).toString('base64')}` }, /^secret/],
      [{ ...good, secret: `whsec_${Buffer.alloc(80).toString('base64')}` }, /^secret/],
      [{ ...good, secret: 'whsec_!!!not-base64!!!' }, /^secret/],
      [{ ...good, description: 'line\nbreak' }, /^description/],
      [{ ...good, max_in_flight: 0 }, /^max_in_flight/],
      [{ ...good, admin: true }, /admin|unrecognized/i],
      [[], /body|expected object/i],
    ];
    for (const [body, message] of cases) {
      const response = await api('/subscribers', { method: 'POST', body });
      assert.equal(response.status, 400, JSON.stringify(body).slice(0, 120));
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'invalid_body');
      assert.match(error.message, message, JSON.stringify(body).slice(0, 120));
    }
    let response = await api('/subscribers', { method: 'POST', raw: '{"url":' });
    assert.equal(response.status, 400);
    response = await api('/subscribers', { method: 'POST', raw: JSON.stringify(good), headers: { 'Content-Type': 'text/plain' } });
    assert.equal(response.status, 415);
    response = await api('/subscribers', { method: 'POST', raw: JSON.stringify({ ...good, description: 'x'.repeat(70_000) }) });
    assert.equal(response.status, 413);
    assert.equal(((await (await api('/subscribers')).json()) as { subscribers: unknown[] }).subscribers.length, 0, 'nothing was created');
  });

  it('answers 404 for unknown or malformed subscriber and delivery ids, 400 for a bad limit', async () => {
    for (const path of ['/subscribers/sub_01ARZ3NDEKTSV4RRFFQ69G5FAV', '/subscribers/..%2F..%2Fetc', '/subscribers/sub_x/deliveries', '/subscribers/sub_01ARZ3NDEKTSV4RRFFQ69G5FAV/deliveries/dlv_zz']) {
      assert.equal((await api(path)).status, 404, path);
    }
    assert.equal((await api('/subscribers/sub_01ARZ3NDEKTSV4RRFFQ69G5FAV', { method: 'DELETE' })).status, 404);
    assert.equal((await api('/dead-letters?limit=0')).status, 400);
    assert.equal((await api('/dead-letters?limit=abc')).status, 400);
    assert.equal((await api('/dead-letters?limit=201')).status, 400);
  });

  it('delivers a verified live.status when a channel goes live via a signed Twitch webhook', async () => {
    const target = await receiver({ secrets: [SECRET_A] });
    const subscriber = await subscribe({ url: target.url, events: ['live.status'], channels: [TEST_CHANNEL], secret: SECRET_A, description: 'e2e' });
    assert.equal(subscriber.secret, SECRET_A, 'the secret is returned once');
    const shown = (await (await api(`/subscribers/${subscriber.id}`)).json()) as Subscriber;
    assert.equal(JSON.stringify(shown).includes(SECRET_A.slice(6, 20)), false, 'the secret is never shown again');
    assert.equal(shown.secrets.length, 1);

    await server.goLive('Going live for subscribers');
    // The titled status: the title change may go out after the go-live, coalesced, and must not reach the next test.
    const webhook = await target.waitFor((w) => liveStatus(w) && w.payload?.data?.['status'] === 'live' && w.payload.data['title'] === 'Going live for subscribers');
    assert.equal(webhook.verified, true, webhook.failure);
    assert.match(webhook.id ?? '', /^msg_[0-9a-f]{32}$/);
    assert.equal(webhook.path, '/hooks');
    assert.equal(webhook.payload?.data?.['channel'], TEST_CHANNEL);
    assert.equal(webhook.payload?.timestamp, webhook.payload?.data?.['updated_at']);
    assert.equal('raw_event' in (webhook.payload?.data ?? {}), false);
    assert.ok(Math.abs(Number(webhook.timestamp) - Date.now() / 1000) < 30);
    const settled = await eventually(async () => {
      const list = await deliveries(subscriber.id);
      return list.some((d) => d.webhook_id === webhook.id && d.status === 'delivered') ? list : undefined;
    }, `the deliveries of ${subscriber.id} to settle`);
    assert.equal(settled.find((d) => d.webhook_id === webhook.id)?.attempts, 1);
    await api(`/subscribers/${subscriber.id}`, { method: 'DELETE' });
  });

  it('generates a whsec_ secret when none is given, and signs with both secrets after a rotation', async () => {
    const target = await receiver();
    const subscriber = await subscribe({ url: target.url, events: ['live.status'] });
    assert.match(subscriber.secret ?? '', /^whsec_[A-Za-z0-9+/]{43}=$/);
    const rotated = await api(`/subscribers/${subscriber.id}/rotate-secret`, { method: 'POST', body: { previous_secret_ttl_s: 3600 } });
    assert.equal(rotated.status, 200);
    const after = (await rotated.json()) as Subscriber;
    assert.notEqual(after.secret, subscriber.secret);
    assert.equal(after.secrets.length, 2);
    assert.equal(after.secrets[0]?.expires_at, null);
    assert.ok(after.secrets[1]?.expires_at);
    assert.equal((await api(`/subscribers/${subscriber.id}/rotate-secret`, { method: 'POST', body: { secret: 'whsec_short' } })).status, 400);

    // A receiver that still has only the old secret verifies, and so does one with only the new.
    target.secrets = [subscriber.secret!];
    const ours = await statusChange();
    const old = await target.waitFor(ours);
    assert.equal(old.verified, true, old.failure);
    assert.equal(old.signature?.split(' ').length, 2);
    assert.equal(verifyStandardWebhook([after.secret!], old, old.body, Number(old.timestamp)), undefined, 'the new secret verifies too');
    assert.equal(verifyStandardWebhook([SECRET_A], old, old.body, Number(old.timestamp)), 'no signature matched');
    await api(`/subscribers/${subscriber.id}`, { method: 'DELETE' });
  });

  it('retries a receiver that hangs, then answers 500, until it succeeds', async () => {
    const target = await receiver({ secrets: [SECRET_A], script: perIdScript(['hang', 500, 204]) });
    const subscriber = await subscribe({ url: target.url, events: ['live.status'], secret: SECRET_A });
    const ours = await statusChange();
    const first = await target.waitFor(ours);
    const delivered = await target.waitFor((w) => w.id === first.id && w.answer === 204, 15_000);
    const attempts = target.received.filter((w) => w.id === first.id);
    assert.deepEqual(attempts.map((w) => w.answer), ['hang', 500, 204]);
    assert.ok(attempts.every((w) => w.verified && w.body === first.body), 'same body, signed afresh each attempt');
    assert.equal(delivered.verified, true);
    const record = await eventually(async () => {
      const list = await deliveries(subscriber.id);
      return list.some((d) => d.webhook_id === first.id && d.status === 'delivered') ? list : undefined;
    }, `the deliveries of ${subscriber.id} to settle`);
    assert.equal(record.find((d) => d.webhook_id === first.id)?.attempts, 3);
    await api(`/subscribers/${subscriber.id}`, { method: 'DELETE' });
  });

  it('dead-letters a delivery after the retry budget, and replays it on request', async () => {
    const target = await receiver({ secrets: [SECRET_A], script: () => 500 });
    const subscriber = await subscribe({ url: target.url, events: ['live.status'], secret: SECRET_A });
    const ours = await statusChange();
    const first = await target.waitFor(ours);
    // Only this webhook's letter: a status change of an earlier test may still reach the new subscriber.
    const dead = await eventually(async () => (await deadLetters(subscriber.id)).find((letter) => letter.webhook_id === first.id), `the dead letter of ${first.id} to settle`);
    assert.equal(dead!.status, 'dead');
    assert.equal(dead!.dead_reason, 'retries_exhausted');
    assert.equal(dead!.attempts, 3, 'the first attempt and the two scheduled retries');
    assert.equal(dead!.last_error, 'http_500');
    assert.equal(dead!.webhook_id, first.id);
    assert.equal(target.received.filter((w) => w.id === first.id).length, 3);
    const all = (await (await api('/dead-letters')).json()) as { dead_letters: Delivery[] };
    assert.ok(all.dead_letters.some((d) => d.delivery_id === dead!.delivery_id));

    target.script = () => 200;
    const replay = await api(`/subscribers/${subscriber.id}/deliveries/${dead!.delivery_id}/replay`, { method: 'POST' });
    assert.equal(replay.status, 202);
    const replayed = (await replay.json()) as Delivery;
    assert.equal(replayed.replay_of, dead!.delivery_id);
    assert.equal(replayed.webhook_id, first.id, 'a replay keeps the webhook id: receivers can dedupe');
    const again = await target.waitFor((w) => w.id === first.id && w.answer === 200);
    assert.equal(again.verified, true);
    assert.equal(again.body, first.body);
    await eventually(async () => {
      const list = await deliveries(subscriber.id);
      return list.some((d) => d.delivery_id === replayed.delivery_id && d.status === 'delivered') ? list : undefined;
    }, `the deliveries of ${subscriber.id} to settle`);
    const marked = (await (await api(`/subscribers/${subscriber.id}/deliveries/${dead!.delivery_id}`)).json()) as Delivery;
    assert.deepEqual(marked.replayed_as, [replayed.delivery_id]);
    assert.equal((await api(`/subscribers/${subscriber.id}/deliveries/dlv_01ARZ3NDEKTSV4RRFFQ69G5FAV/replay`, { method: 'POST' })).status, 404);
    assert.equal((await api(`/subscribers/${subscriber.id}/dead-letters/${dead!.delivery_id}`, { method: 'DELETE' })).status, 204);
    assert.ok(!(await deadLetters(subscriber.id)).some((letter) => letter.delivery_id === dead!.delivery_id), 'the deleted letter is gone');
    await api(`/subscribers/${subscriber.id}`, { method: 'DELETE' });
  });

  it('disables a subscriber whose receiver answers 410 Gone, audits it, and replays after re-enabling', async () => {
    const target = await receiver({ secrets: [SECRET_A], script: () => 410 });
    const subscriber = await subscribe({ url: target.url, events: ['live.status'], secret: SECRET_A });
    // Whichever status of this change comes first (the go-live's, or the title's) is answered
    // 410 and disables the subscriber; the earlier tests waited for their own statuses.
    await statusChange();
    const gone = await target.waitFor(liveStatus);
    const [dead] = await eventually(async () => {
      const list = await deadLetters(subscriber.id);
      return list.length === 1 ? list : undefined;
    }, `the dead letters of ${subscriber.id} to settle`);
    assert.equal(dead!.dead_reason, 'gone');
    assert.equal(target.received.filter((w) => w.id === gone.id).length, 1, '410 is not retried');
    const shown = (await (await api(`/subscribers/${subscriber.id}`)).json()) as Subscriber;
    assert.equal(shown.status, 'disabled');
    assert.equal(shown.disabled_reason, 'gone');
    const audit = (await (await server.request('/api/v1/audit?limit=200', { admin: true })).json()) as { records: Array<{ action: string; target: string }> };
    assert.ok(audit.records.some((r) => r.action === 'webhook.subscriber.disabled' && r.target === subscriber.id));
    assert.ok(audit.records.some((r) => r.action === 'webhook.subscriber.created' && r.target === subscriber.id));

    assert.equal((await api(`/subscribers/${subscriber.id}/deliveries/${dead!.delivery_id}/replay`, { method: 'POST' })).status, 409);
    target.script = () => 204;
    const enabled = await api(`/subscribers/${subscriber.id}`, { method: 'PATCH', body: { enabled: true } });
    assert.equal(((await enabled.json()) as Subscriber).status, 'enabled');
    assert.equal((await api(`/subscribers/${subscriber.id}/deliveries/${dead!.delivery_id}/replay`, { method: 'POST' })).status, 202);
    const back = await target.waitFor((w) => w.id === gone.id && w.answer === 204);
    assert.equal(back.verified, true);
    await api(`/subscribers/${subscriber.id}`, { method: 'DELETE' });
  });

  it('sends clip.published only to subscribers of that event and channel', async () => {
    const clips = await receiver({ secrets: [SECRET_A] });
    const subscriber = await subscribe({ url: clips.url, events: ['clip.published'], channels: [TEST_CHANNEL], secret: SECRET_A });
    const event = {
      upload_id: 'up_01ARZ3NDEKTSV4RRFFQ69G5FAV',
      channel: TEST_CHANNEL,
      media: { mp4: '/media/x/clip.mp4', hls: '/media/x/index.m3u8', poster: '/media/x/poster.jpg' },
      published_at: new Date().toISOString(),
    };
    await server.running.bus.publish(SUBJECTS.clipPublished(parseChannelRef(TEST_CHANNEL)!), encodeJson(event), { msgId: event.upload_id });
    const webhook = await clips.waitFor((w) => w.payload?.type === 'clip.published');
    assert.equal(webhook.verified, true, webhook.failure);
    assert.deepEqual(webhook.payload?.data, event);
    assert.equal(webhook.payload?.timestamp, event.published_at);
    assert.equal(clips.received.some(liveStatus), false, 'no live.status for a clip-only subscriber');
    await api(`/subscribers/${subscriber.id}`, { method: 'DELETE' });
  });

  it('updates and deletes subscribers, refusing a private URL on update', async () => {
    const target = await receiver();
    const subscriber = await subscribe({ url: target.url, events: ['live.status'] });
    let response = await api(`/subscribers/${subscriber.id}`, { method: 'PATCH', body: { url: 'http://169.254.169.254/' } });
    assert.equal(response.status, 400);
    response = await api(`/subscribers/${subscriber.id}`, { method: 'PATCH', body: {} });
    assert.equal(response.status, 400);
    response = await api(`/subscribers/${subscriber.id}`, { method: 'PATCH', body: { events: ['clip.published'], channels: ['acme/other'] } });
    assert.equal(response.status, 200);
    const updated = (await response.json()) as Subscriber & { events: string[]; channels: string[] };
    assert.deepEqual(updated.events, ['clip.published']);
    assert.deepEqual(updated.channels, ['acme/other']);
    assert.equal((await api(`/subscribers/${subscriber.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api(`/subscribers/${subscriber.id}`)).status, 404);
  });
});
