import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createCanonicalId, defaultBadge, type LiveMetadata } from '@live-upload/schema';
import { Registry } from 'prom-client';
import { startFakePds, type FakePds, type PdsCommit } from '../../../../test/fakes/bluesky/pds.js';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { withTimeout } from '../../../../test/support/with-timeout.js';
import { BUCKETS, STREAMS, SUBJECTS, createMemoryBus, createNatsBus, encodeJson, type Bus, type KvBucket } from '../../bus/index.js';
import { createLogger } from '../../observability/index.js';
import { initialChannelState } from '../../pipeline/index.js';
import type { BlueskyCredentials } from './bluesky-credentials.js';
import { createBlueskyMetrics, type BlueskyMetrics } from './bluesky-metrics.js';
import { StatusWriter } from './status-writer.js';

const DID = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const NO_CREDENTIALS_DID = 'did:plc:dddddddddddddddddddddddd';
const PUBLIC_URL = 'https://live.example';
const SHOW = { publisher: 'acme', slug: 'show' };
const OTHER = { publisher: 'acme', slug: 'other' };
const STATUS = 'app.bsky.actor.status';

describeEachBus('Bluesky status write-back', (busUnderTest) => {
  let bus: Bus;
  let pds: FakePds;
  let writer: StatusWriter;
  let metrics: BlueskyMetrics;
  let states: KvBucket;
  const commits: PdsCommit[] = [];
  const commitWaiters = new Set<() => void>();
  const seqs = new Map<string, number>();
  let firstCanonicalId = '';

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    pds = await startFakePds();
    pds.addAccount({ did: DID, handle: 'acme.test', password: 'app-pass-word-1234' });
    pds.onCommit((commit) => {
      commits.push(commit);
      for (const wake of [...commitWaiters]) wake();
    });
    const credentials = new Map<string, BlueskyCredentials>([[DID, { service: pds.baseUrl, identifier: 'acme.test', password: 'app-pass-word-1234' }]]);
    metrics = createBlueskyMetrics(new Registry());
    writer = await StatusWriter.open({
      bus,
      credentials: async (did) => credentials.get(did),
      metrics,
      logger: createLogger({ level: 'silent' }),
      publicUrl: PUBLIC_URL,
      durationMinutes: 1_000,
      retryBaseMs: 20,
      retryMaxMs: 100,
      maxAttempts: 4,
    });
    await writer.start();
    states = await bus.kv(BUCKETS.blueskyStatus);
  });

  after(async () => {
    await writer.stop();
    await pds.close();
    await bus.close();
  });

  /** Publishes the channel's next status record, as the pipeline would. */
  async function publishStatus(ref: typeof SHOW, did: string, change: { status: 'live' | 'offline'; canonicalId?: string | null; title?: string }): Promise<LiveMetadata> {
    const channel = `${ref.publisher}/${ref.slug}`;
    const seq = (seqs.get(channel) ?? 0) + 1;
    seqs.set(channel, seq);
    const nowMs = Date.now();
    const record: LiveMetadata = {
      ...initialChannelState(channel, nowMs, { title: change.title ?? 'Morning show', providers: { bluesky: { did, post_uri: null } } }).record,
      status: change.status,
      badge: defaultBadge(change.status),
      canonical_id: change.canonicalId ?? null,
      started_at: change.status === 'live' ? new Date(nowMs).toISOString() : null,
      seq,
    };
    await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(record), { msgId: `status:${channel}:${seq}` });
    return record;
  }

  function nextCommit(predicate: (commit: PdsCommit) => boolean, what: string): Promise<PdsCommit> {
    const start = commits.length;
    return withTimeout(
      new Promise<PdsCommit>((resolve) => {
        const check = () => {
          const found = commits.slice(start).find(predicate);
          if (!found) return;
          commitWaiters.delete(check);
          resolve(found);
        };
        commitWaiters.add(check);
      }),
      10_000,
      () => what,
    );
  }

  /** Resolves once the writer has handled the channel's record `seq` (its KV state says so). */
  async function handled(ref: typeof SHOW, seq: number): Promise<void> {
    const key = `${ref.publisher}/${ref.slug}`;
    const done = async () => {
      const entry = await states.get(key);
      return entry !== undefined && (JSON.parse(new TextDecoder().decode(entry.value)) as { seq: number }).seq >= seq;
    };
    let subscription: { unsubscribe(): void } | undefined;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        void states
          .watch((event) => {
            if (event.key === key) void done().then((yes) => yes && resolve(), reject);
          })
          .then(async (watching) => {
            subscription = watching;
            if (await done()) resolve();
          }, reject);
      }),
      10_000,
      () => `the writer to handle ${key} seq ${seq}`,
    ).finally(() => subscription?.unsubscribe());
  }

  async function writes(action: 'put' | 'delete', outcome: string): Promise<number> {
    return (await metrics.statusWrites.get()).values.find((value) => value.labels['action'] === action && value.labels['outcome'] === outcome)?.value ?? 0;
  }

  it('sets the linked account\'s #live status with an embed of the landing page when the channel goes live', async () => {
    const written = nextCommit((commit) => commit.collection === STATUS && commit.operation === 'create', 'the status record');
    firstCanonicalId = createCanonicalId(SHOW, Date.now());
    const live = await publishStatus(SHOW, DID, { status: 'live', canonicalId: firstCanonicalId, title: 'Morning show, live' });
    const commit = await written;
    await handled(SHOW, live.seq);
    assert.equal(commit.did, DID);
    assert.equal(commit.rkey, 'self');
    const stored = pds.record(DID, STATUS, 'self');
    assert.ok(stored);
    const { createdAt, ...rest } = stored.value;
    assert.deepEqual(rest, {
      $type: STATUS,
      status: 'app.bsky.actor.status#live',
      embed: { $type: 'app.bsky.embed.external', external: { uri: `${PUBLIC_URL}/c/acme/show`, title: 'Morning show, live', description: 'Live now: Morning show, live' } },
      durationMinutes: 240,
    });
    assert.ok(typeof createdAt === 'string' && Math.abs(Date.parse(createdAt) - Date.now()) < 60_000);
  });

  it('does not rewrite the status for an update of the same broadcast', async () => {
    const puts = pds.count('com.atproto.repo.putRecord');
    const live = pds.record(DID, STATUS, 'self');
    const update = await publishStatus(SHOW, DID, { status: 'live', canonicalId: firstCanonicalId, title: 'New title' });
    await handled(SHOW, update.seq);
    assert.equal(pds.count('com.atproto.repo.putRecord'), puts);
    assert.deepEqual(pds.record(DID, STATUS, 'self'), live);
  });

  it('refreshes an expired access token and deletes the status when the channel goes offline', async () => {
    const sessions = pds.count('com.atproto.server.createSession');
    const refreshes = pds.count('com.atproto.server.refreshSession');
    pds.expireAccessTokens();
    const deleted = nextCommit((commit) => commit.collection === STATUS && commit.operation === 'delete', 'the status deletion');
    await publishStatus(SHOW, DID, { status: 'offline' });
    await deleted;
    assert.equal(pds.record(DID, STATUS, 'self'), undefined);
    assert.equal(pds.count('com.atproto.server.refreshSession'), refreshes + 1, 'refreshed once');
    assert.equal(pds.count('com.atproto.server.createSession'), sessions, 'no new sign-in');
  });

  it('retries a PDS failing twice with backoff and writes once', async () => {
    const puts = pds.count('com.atproto.repo.putRecord');
    pds.failNext(2, 500);
    const written = nextCommit((commit) => commit.collection === STATUS && commit.operation === 'create', 'the status record after retries');
    const record = await publishStatus(SHOW, DID, { status: 'live', canonicalId: createCanonicalId(SHOW, Date.now()) });
    await written;
    await handled(SHOW, record.seq);
    assert.equal(pds.count('com.atproto.repo.putRecord'), puts + 1, 'one successful put');
    assert.equal(pds.count('com.atproto.repo.putRecord', 500), 2, 'two failed attempts');
    assert.equal(await writes('put', 'retry'), 2);
    assert.equal(commits.filter((commit) => commit.operation === 'create' && commit.collection === STATUS).length, 2, 'one per broadcast so far');
  });

  it('signs in again once when the session cannot be refreshed', async () => {
    const sessions = pds.count('com.atproto.server.createSession');
    pds.expireAccessTokens();
    pds.revokeRefreshTokens();
    const deleted = nextCommit((commit) => commit.operation === 'delete', 'the status deletion');
    await publishStatus(SHOW, DID, { status: 'offline' });
    await deleted;
    assert.equal(pds.count('com.atproto.server.createSession'), sessions + 1);
  });

  it('gives up after the bounded attempts and counts it', async () => {
    pds.failNext(4, 502);
    const record = await publishStatus(SHOW, DID, { status: 'live', canonicalId: createCanonicalId(SHOW, Date.now()) });
    await handled(SHOW, record.seq);
    assert.equal(await writes('put', 'failed'), 1);
    assert.equal(pds.record(DID, STATUS, 'self'), undefined);
  });

  it('skips an account without credentials and counts it', async () => {
    const record = await publishStatus(OTHER, NO_CREDENTIALS_DID, { status: 'live', canonicalId: createCanonicalId(OTHER, Date.now()) });
    await handled(OTHER, record.seq);
    assert.equal(await writes('put', 'no_credentials'), 1);
    assert.equal(pds.record(NO_CREDENTIALS_DID, STATUS, 'self'), undefined);
  });

  it('drops a malformed status message without writing anything and keeps working', async () => {
    const puts = pds.count('com.atproto.repo.putRecord');
    await bus.publish(SUBJECTS.liveStatus(SHOW), new TextEncoder().encode('{"channel":"acme/show","status":"live"'), { msgId: 'garbage-1' });
    await bus.publish(SUBJECTS.liveStatus(SHOW), encodeJson({ channel: 'acme/show', status: 'live', seq: 1e9 }), { msgId: 'garbage-2' });
    const written = nextCommit((commit) => commit.operation === 'create', 'the status record after garbage');
    await publishStatus(SHOW, DID, { status: 'live', canonicalId: createCanonicalId(SHOW, Date.now()) });
    await written;
    assert.equal(pds.count('com.atproto.repo.putRecord'), puts + 1);
  });
});
