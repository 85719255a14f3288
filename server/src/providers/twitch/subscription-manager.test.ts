import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseChannelRef } from '@live-upload/schema';
import { startFakeHelix, type FakeHelix, type FakeSubscription } from '../../../../test/fakes/twitch/helix.js';
import { TEST_BROADCASTER, TEST_CHANNEL, TEST_SECRET, startTestServer, type TestServer } from '../../../../test/support/test-server.js';
import { eventually } from '../../../../test/support/eventually.js';
import { BusLease, createMemoryBus } from '../../bus/index.js';
import { createLogger } from '../../observability/index.js';
import { AppAccessToken } from './app-access-token.js';
import type { EventSubSubscription } from './eventsub-message.js';
import { HELIX_ERROR_KINDS, HelixClient, HelixError } from './helix-client.js';
import {
  DELETE_REASONS,
  TWITCH_SUBSCRIPTIONS_LEASE_KEY,
  TwitchSubscriptionManager,
  planSubscriptions,
  wantedSubscriptions,
  type SubscriptionManagerOptions,
  type TwitchBroadcasterLink,
} from './subscription-manager.js';

const OURS = 'https://live.example/webhooks/twitch';
const FORMER = 'https://old.example/webhooks/twitch';
const OTHERS = 'https://other-app.example/eventsub';

let nextId = 0;
function existing(type: string, version: string, broadcaster: string, status = 'enabled', callback = OURS, method = 'webhook'): EventSubSubscription {
  return {
    id: `sub-${++nextId}`,
    status,
    type,
    version,
    cost: 1,
    condition: { broadcaster_user_id: broadcaster },
    transport: method === 'webhook' ? { method, callback } : { method, session_id: 'session' },
    created_at: '2026-01-01T00:00:00Z',
  };
}

/** All three wanted subscriptions of a broadcaster, in a status. */
function full(broadcaster: string, status = 'enabled', callback = OURS): EventSubSubscription[] {
  return [existing('stream.online', '1', broadcaster, status, callback), existing('stream.offline', '1', broadcaster, status, callback), existing('channel.update', '2', broadcaster, status, callback)];
}

const short = (plan: ReturnType<typeof planSubscriptions>) => ({
  keep: plan.keep.map((subscription) => `${subscription.type}@${subscription.condition['broadcaster_user_id']}`).sort(),
  create: plan.create.map((entry) => `${entry.type}@${entry.broadcasterUserId}`).sort(),
  delete: plan.delete.map(({ subscription, reason }) => `${subscription.type}@${subscription.condition['broadcaster_user_id']}:${reason}`).sort(),
});

describe('planSubscriptions', () => {
  const cases: {
    name: string;
    broadcasters: string[];
    existing: EventSubSubscription[];
    keep?: string[];
    create?: string[];
    delete?: string[];
  }[] = [
    { name: 'creates all three for a new broadcaster', broadcasters: ['1'], existing: [], create: ['channel.update@1', 'stream.offline@1', 'stream.online@1'] },
    { name: 'changes nothing when all exist and are enabled', broadcasters: ['1'], existing: full('1'), keep: ['channel.update@1', 'stream.offline@1', 'stream.online@1'] },
    {
      name: 'keeps subscriptions whose verification is pending',
      broadcasters: ['1'],
      existing: full('1', 'webhook_callback_verification_pending'),
      keep: ['channel.update@1', 'stream.offline@1', 'stream.online@1'],
    },
    { name: 'creates only what is missing', broadcasters: ['1'], existing: [existing('stream.online', '1', '1')], keep: ['stream.online@1'], create: ['channel.update@1', 'stream.offline@1'] },
    {
      name: 'deletes an unlinked broadcaster',
      broadcasters: [],
      existing: full('9'),
      delete: ['channel.update@9:unwanted', 'stream.offline@9:unwanted', 'stream.online@9:unwanted'],
    },
    {
      name: 'deletes and re-creates failed subscriptions',
      broadcasters: ['1'],
      existing: [existing('stream.online', '1', '1', 'webhook_callback_verification_failed'), existing('stream.offline', '1', '1', 'notification_failures_exceeded'), existing('channel.update', '2', '1', 'version_removed')],
      create: ['channel.update@1', 'stream.offline@1', 'stream.online@1'],
      delete: ['channel.update@1:failed', 'stream.offline@1:failed', 'stream.online@1:failed'],
    },
    {
      name: 'does not re-create for a broadcaster who revoked authorization',
      broadcasters: ['1'],
      existing: [existing('stream.online', '1', '1', 'authorization_revoked'), existing('stream.offline', '1', '1')],
      keep: ['stream.offline@1'],
      delete: ['stream.online@1:revoked'],
    },
    {
      name: 'does not re-create for a removed user',
      broadcasters: ['1'],
      existing: [existing('channel.update', '2', '1', 'user_removed')],
      delete: ['channel.update@1:revoked'],
    },
    {
      name: 'moves subscriptions off a former callback',
      broadcasters: ['1'],
      existing: full('1', 'enabled', FORMER),
      create: ['channel.update@1', 'stream.offline@1', 'stream.online@1'],
      delete: ['channel.update@1:wrong_callback', 'stream.offline@1:wrong_callback', 'stream.online@1:wrong_callback'],
    },
    {
      name: "leaves other callbacks' and non-webhook subscriptions alone",
      broadcasters: ['1'],
      existing: [...full('1', 'enabled', OTHERS), ...full('2', 'webhook_callback_verification_failed', OTHERS), existing('stream.online', '1', '1', 'enabled', OURS, 'websocket')],
      create: ['channel.update@1', 'stream.offline@1', 'stream.online@1'],
    },
    {
      name: 'deletes a wrong version and a type we do not want',
      broadcasters: ['1'],
      existing: [...full('1'), existing('channel.update', '1', '1'), existing('channel.follow', '2', '1')],
      keep: ['channel.update@1', 'stream.offline@1', 'stream.online@1'],
      delete: ['channel.follow@1:unwanted', 'channel.update@1:unwanted'],
    },
    {
      name: 'deletes duplicates and keeps one',
      broadcasters: ['1'],
      existing: [...full('1'), existing('stream.online', '1', '1', 'webhook_callback_verification_pending')],
      keep: ['channel.update@1', 'stream.offline@1', 'stream.online@1'],
      delete: ['stream.online@1:duplicate'],
    },
    {
      name: 'ignores a subscription whose condition names no broadcaster',
      broadcasters: ['1'],
      existing: [{ ...existing('stream.online', '1', '1'), condition: {} }, ...full('1')],
      keep: ['channel.update@1', 'stream.offline@1', 'stream.online@1'],
      delete: ['stream.online@undefined:unwanted'],
    },
    { name: 'wants each broadcaster once even when linked twice', broadcasters: ['1', '1'], existing: full('1'), keep: ['channel.update@1', 'stream.offline@1', 'stream.online@1'] },
  ];

  for (const testCase of cases) {
    it(testCase.name, () => {
      const plan = planSubscriptions(wantedSubscriptions(testCase.broadcasters, OURS), testCase.existing, { callback: OURS, formerCallbacks: [FORMER] });
      assert.deepEqual(short(plan), { keep: testCase.keep ?? [], create: testCase.create ?? [], delete: testCase.delete ?? [] });
    });
  }

  it('never deletes what it keeps or creates what it keeps (randomized)', () => {
    const statuses = ['enabled', 'webhook_callback_verification_pending', 'webhook_callback_verification_failed', 'notification_failures_exceeded', 'authorization_revoked'];
    const types = [['stream.online', '1'], ['stream.offline', '1'], ['channel.update', '2'], ['channel.update', '1']] as const;
    for (let round = 0; round < 200; round++) {
      const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;
      const subs = Array.from({ length: Math.floor(Math.random() * 12) }, () => {
        const [type, version] = pick(types);
        return existing(type, version, pick(['1', '2', '3']), pick(statuses), pick([OURS, OURS, FORMER, OTHERS]));
      });
      const plan = planSubscriptions(wantedSubscriptions(['1', '2'], OURS), subs, { callback: OURS, formerCallbacks: [FORMER] });
      const deleted = new Set(plan.delete.map(({ subscription }) => subscription.id));
      for (const kept of plan.keep) assert.equal(deleted.has(kept.id), false);
      for (const subscription of subs) {
        if (subscription.transport.callback === OTHERS) assert.equal(deleted.has(subscription.id), false, 'never touches other callbacks');
      }
      const keys = plan.create.map((entry) => `${entry.type}@${entry.version}@${entry.broadcasterUserId}`);
      assert.equal(new Set(keys).size, keys.length, 'creates each once');
      for (const subscription of plan.keep) {
        assert.equal(keys.includes(`${subscription.type}@${subscription.version}@${subscription.condition['broadcaster_user_id']}`), false);
      }
    }
  });
});

const EVENING = 'acme/evening-show';
const EVENING_BROADCASTER = '5151';
const silent = createLogger({ level: 'silent' });

/** The registry's view of the channels this test made: the links source the manager reads. */
function registryLinks(server: TestServer, channels: readonly string[]): () => Promise<TwitchBroadcasterLink[]> {
  return async () => {
    const links: TwitchBroadcasterLink[] = [];
    for (const channel of channels) {
      const twitch = (await server.running.channels.get(parseChannelRef(channel)!))?.providers.twitch;
      if (twitch) links.push({ broadcasterUserId: twitch.user_id, state: twitch.state, ...(twitch.revoked_reason ? { revokedReason: twitch.revoked_reason } : {}) });
    }
    return links;
  };
}

async function linkEvening(server: TestServer, broadcaster: string | undefined): Promise<void> {
  const response = await server.request(`/api/v1/channels/${EVENING}`, {
    method: 'PUT',
    admin: true,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Evening', providers: broadcaster ? { twitch: { user_id: broadcaster, login: 'evening_live' } } : {} }),
  });
  assert.ok(response.ok, await response.text());
}

function ofBroadcaster(twitch: FakeHelix, broadcaster: string, callback: string): FakeSubscription[] {
  return twitch.subscriptions().filter((subscription) => subscription.condition.broadcaster_user_id === broadcaster && subscription.transport.callback === callback);
}

describe('TwitchSubscriptionManager end to end (fake Helix, real server as the callback)', () => {
  let twitch: FakeHelix;
  let server: TestServer;
  let helix: HelixClient;
  let manager: TwitchSubscriptionManager;
  let callback: string;

  const managerWith = (options: Partial<SubscriptionManagerOptions> = {}) =>
    new TwitchSubscriptionManager({ helix, links: registryLinks(server, [TEST_CHANNEL, EVENING]), callbackUrl: callback, secret: TEST_SECRET, logger: silent, ...options });
  const writesSince = (start: number) => twitch.requests.slice(start).filter((request) => request.method === 'POST' || request.method === 'DELETE');

  before(async () => {
    twitch = await startFakeHelix({ pageSize: 2 });
    server = await startTestServer();
    callback = `${server.url}/webhooks/twitch`;
    helix = new HelixClient({ apiBaseUrl: twitch.url, token: new AppAccessToken({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret }) });
    await linkEvening(server, EVENING_BROADCASTER);
    manager = managerWith();
  });
  after(async () => {
    await manager.stop();
    await server.close();
    await twitch.close();
  });

  it('creates three subscriptions per linked broadcaster, enabled once our callback answers the challenge', async () => {
    // A subscription of some other callback of the same app: never ours to touch.
    await helix.createSubscription({ type: 'stream.online', version: '1', broadcasterUserId: '999', callback: 'http://127.0.0.1:9/elsewhere', secret: 'another-secret-123' });
    const report = await manager.reconcile();
    assert.equal(report.created.length, 6);
    assert.deepEqual(report.failures, []);
    await twitch.verificationsSettled();
    for (const broadcaster of [TEST_BROADCASTER.id, EVENING_BROADCASTER]) {
      const subscriptions = ofBroadcaster(twitch, broadcaster, callback);
      assert.deepEqual(subscriptions.map((subscription) => `${subscription.type}@${subscription.version}`).sort(), ['channel.update@2', 'stream.offline@1', 'stream.online@1']);
      assert.deepEqual(subscriptions.map((subscription) => subscription.status), ['enabled', 'enabled', 'enabled']);
    }
  });

  it('changes nothing on a second reconcile', async () => {
    const start = twitch.requests.length;
    const report = await manager.reconcile();
    assert.deepEqual({ created: report.created.length, deleted: report.deleted.length, unchanged: report.unchanged }, { created: 0, deleted: 0, unchanged: 6 });
    assert.deepEqual(writesSince(start), []);
  });

  it("deletes an unlinked broadcaster's subscriptions and leaves other callbacks alone", async () => {
    await linkEvening(server, undefined);
    const report = await manager.reconcile();
    assert.deepEqual(report.deleted.map((entry) => `${entry.broadcasterUserId}:${entry.reason}`), Array(3).fill(`${EVENING_BROADCASTER}:${DELETE_REASONS.unwanted}`));
    assert.equal(ofBroadcaster(twitch, EVENING_BROADCASTER, callback).length, 0);
    assert.equal(ofBroadcaster(twitch, TEST_BROADCASTER.id, callback).length, 3);
    assert.equal(ofBroadcaster(twitch, '999', 'http://127.0.0.1:9/elsewhere').length, 1);
  });

  it('re-creates a subscription that failed', async () => {
    const failed = ofBroadcaster(twitch, TEST_BROADCASTER.id, callback).find((subscription) => subscription.type === 'stream.offline')!;
    twitch.setStatus(failed.id, 'notification_failures_exceeded');
    const report = await manager.reconcile();
    assert.deepEqual(report.deleted.map((entry) => [entry.id, entry.reason]), [[failed.id, DELETE_REASONS.failed]]);
    assert.deepEqual(report.created.map((subscription) => subscription.type), ['stream.offline']);
    await twitch.verificationsSettled();
    const now = ofBroadcaster(twitch, TEST_BROADCASTER.id, callback);
    assert.equal(now.length, 3);
    assert.ok(now.every((subscription) => subscription.status === 'enabled' && subscription.id !== failed.id));
  });

  it('re-subscribes at once after a notification_failures_exceeded revocation', async () => {
    await linkEvening(server, EVENING_BROADCASTER);
    await manager.reconcile();
    await twitch.verificationsSettled();
    const victim = ofBroadcaster(twitch, EVENING_BROADCASTER, callback).find((subscription) => subscription.type === 'channel.update')!;
    assert.equal(await twitch.revoke(victim.id, 'notification_failures_exceeded'), 204);
    const outcome = manager.handleRevocation({ ...victim, condition: { ...victim.condition }, transport: { ...victim.transport } });
    assert.deepEqual(outcome, { action: 'resubscribe', broadcasterUserId: EVENING_BROADCASTER, reason: 'notification_failures_exceeded' });
    await manager.reconcile(); // queued behind (or the same as) the run the revocation started
    await twitch.verificationsSettled();
    const now = ofBroadcaster(twitch, EVENING_BROADCASTER, callback);
    assert.deepEqual(now.map((subscription) => subscription.status), ['enabled', 'enabled', 'enabled']);
    assert.equal(now.some((subscription) => subscription.id === victim.id), false);
  });

  it('does not re-subscribe after an authorization_revoked revocation, and reports the link revoked', async () => {
    const victim = ofBroadcaster(twitch, TEST_BROADCASTER.id, callback).find((subscription) => subscription.type === 'stream.online')!;
    // Twitch tells our real webhook, which marks the link revoked in the registry.
    assert.equal(await twitch.revoke(victim.id, 'authorization_revoked'), 204);
    const outcome = manager.handleRevocation({ ...victim, condition: { ...victim.condition }, transport: { ...victim.transport } });
    assert.deepEqual(outcome, { action: 'revoked', broadcasterUserId: TEST_BROADCASTER.id, reason: 'authorization_revoked' });
    const link = (await server.running.channels.get(parseChannelRef(TEST_CHANNEL)!))?.providers.twitch;
    assert.equal(link?.state, 'revoked');

    const report = await manager.reconcile();
    assert.deepEqual(report.created, []);
    assert.equal(ofBroadcaster(twitch, TEST_BROADCASTER.id, callback).length, 0, 'the revoked and the now unwanted ones are deleted');
    const again = await manager.reconcile();
    assert.deepEqual(again.created, []);
    assert.equal(ofBroadcaster(twitch, EVENING_BROADCASTER, callback).length, 3, 'other broadcasters are untouched');
  });

  it('does not re-subscribe a revoked broadcaster even before the registry has marked the link', async () => {
    const fresh = managerWith({ links: async () => [{ broadcasterUserId: '6161', state: 'active' }] });
    fresh.handleRevocation({ ...ofBroadcaster(twitch, EVENING_BROADCASTER, callback)[0]!, condition: { broadcaster_user_id: '6161' }, status: 'user_removed' });
    const report = await fresh.reconcile();
    assert.equal(report.created.some((subscription) => subscription.condition['broadcaster_user_id'] === '6161'), false);
    await fresh.stop();
  });

  describe('hostile', () => {
    let deaf: Server;
    let deafCallback: string;
    before(async () => {
      // A callback that answers 200 but never echoes the challenge.
      deaf = createServer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/plain' });
        response.end('not-the-challenge');
      });
      await new Promise<void>((resolve) => deaf.listen(0, '127.0.0.1', resolve));
      deafCallback = `http://127.0.0.1:${(deaf.address() as AddressInfo).port}/webhooks/twitch`;
    });
    after(async () => {
      deaf.closeAllConnections();
      await new Promise<void>((resolve) => deaf.close(() => resolve()));
    });

    it('a callback that does not answer the challenge leaves failed subscriptions, which the next run replaces', async () => {
      const deafManager = managerWith({ callbackUrl: deafCallback, links: async () => [{ broadcasterUserId: '7171', state: 'active' }] });
      await deafManager.reconcile();
      await twitch.verificationsSettled();
      const first = ofBroadcaster(twitch, '7171', deafCallback);
      assert.deepEqual(first.map((subscription) => subscription.status), Array(3).fill('webhook_callback_verification_failed'));
      const report = await deafManager.reconcile();
      assert.deepEqual(report.deleted.map((entry) => entry.reason), Array(3).fill(DELETE_REASONS.failed));
      assert.equal(report.created.length, 3);
      await twitch.verificationsSettled();
      // The real server with the right secret, verified: the same subscriptions under a forced failure also fail.
      twitch.failVerification(true);
      const forced = managerWith({ links: async () => [{ broadcasterUserId: '8181', state: 'active' }] });
      await forced.reconcile();
      await twitch.verificationsSettled();
      twitch.failVerification(false);
      assert.deepEqual(ofBroadcaster(twitch, '8181', callback).map((subscription) => subscription.status), Array(3).fill('webhook_callback_verification_failed'));
      for (const subscription of [...ofBroadcaster(twitch, '7171', deafCallback), ...ofBroadcaster(twitch, '8181', callback)]) await helix.deleteSubscription(subscription.id);
    });

    it('a reconcile fails as a whole when the listing is a 500 or malformed JSON, and changes nothing', async () => {
      for (const [status, body] of [
        [500, '{"error":"Internal Server Error","status":500,"message":""}'],
        [200, '{"data":[{"id":'],
      ] as const) {
        const start = twitch.requests.length;
        twitch.respondNext(status, body);
        await assert.rejects(manager.reconcile(), (error: unknown) => error instanceof HelixError && [HELIX_ERROR_KINDS.server, HELIX_ERROR_KINDS.malformedResponse].includes(error.kind as 'server'));
        assert.deepEqual(writesSince(start), []);
      }
    });

    it('one failing create is reported and the others go through', async () => {
      const partial = managerWith({ links: async () => [{ broadcasterUserId: '9191', state: 'active' }] });
      twitch.respondNext(500, '{"error":"Internal Server Error","status":500,"message":"boom"}', { method: 'POST' });
      const report = await partial.reconcile();
      assert.equal(report.failures.length, 1);
      assert.equal(report.failures[0]?.action, 'create');
      assert.match(report.failures[0]?.message ?? '', /500/);
      assert.equal(report.created.length, 2);
      await twitch.verificationsSettled();
      const healed = await partial.reconcile();
      assert.equal(healed.created.length, 1, 'the next run creates the missing one');
      await twitch.verificationsSettled();
      for (const subscription of ofBroadcaster(twitch, '9191', callback)) await helix.deleteSubscription(subscription.id);
    });
  });

  describe('schedule', () => {
    it('runs at start and periodically, and stop() waits for the run in flight', async () => {
      let calls = 0;
      let release: (() => void) | undefined;
      let secondCall: (() => void) | undefined;
      const reachedSecond = new Promise<void>((resolve) => (secondCall = resolve));
      const scheduled = managerWith({
        intervalMs: 20,
        links: async () => {
          calls++;
          if (calls === 2) {
            secondCall?.();
            await new Promise<void>((resolve) => (release = resolve));
          }
          return [];
        },
      });
      scheduled.start();
      scheduled.start(); // idempotent
      await reachedSecond;
      let stopped = false;
      const stopping = scheduled.stop().then(() => (stopped = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(stopped, false, 'stop waits for the run in flight');
      release?.();
      await stopping;
      assert.equal(calls, 2);
      scheduled.start();
      assert.equal(calls, 2, 'a stopped manager does not start again');
    });

    it('in a fleet, one replica runs the periodic reconcile (a lease on the bus); when it stops, another takes the rounds over', async () => {
      const bus = createMemoryBus();
      const leaseFor = (holder: string) => BusLease.open(bus, { key: TWITCH_SUBSCRIPTIONS_LEASE_KEY, holder, leaseMs: 60_000 });
      const rounds = { a: 0, b: 0 };
      const replica = async (name: 'a' | 'b') =>
        managerWith({
          intervalMs: 15,
          lease: await leaseFor(name),
          links: async () => {
            rounds[name]++;
            return [];
          },
        });
      const [a, b] = [await replica('a'), await replica('b')];
      try {
        a.start();
        await eventually(() => rounds.a >= 3, 'replica a reconciles round after round');
        b.start();
        const bAtStart = rounds.b;
        const aBefore = rounds.a;
        await eventually(() => rounds.a >= aBefore + 3, 'a keeps reconciling');
        assert.equal(rounds.b, bAtStart, 'b stands by while a holds the lease');
        assert.equal(bAtStart, 0);
        await a.stop();
        await eventually(() => rounds.b >= 2, 'b takes the periodic rounds over once a gave the lease back');
        const aStopped = rounds.a;
        await eventually(() => rounds.b >= 4, 'b goes on');
        assert.equal(rounds.a, aStopped, 'a stopped');
        // A reconcile asked for (a link changed on this replica) runs where it is asked, lease or not.
        await a.reconcile();
        assert.equal(rounds.a, aStopped + 1);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        await bus.close();
      }
    });

    it('runs asked for during a run are queued once behind it', async () => {
      let calls = 0;
      let release: (() => void) | undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const queued = managerWith({
        links: async () => {
          calls++;
          if (calls === 1) await gate;
          return [];
        },
      });
      const first = queued.reconcile();
      const second = queued.reconcile();
      const third = queued.reconcile();
      assert.equal(second, third);
      release?.();
      await Promise.all([first, second]);
      assert.equal(calls, 2);
      await queued.stop();
    });
  });
});
