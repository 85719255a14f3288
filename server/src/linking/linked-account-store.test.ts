import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { BUCKETS, createMemoryBus, createNatsBus, decodeText, type Bus, type KvBucket } from '../bus/index.js';
import { LinkedAccountStore } from './linked-account-store.js';
import { TokenVault, TokenVaultError } from './token-vault.js';

const KEY_1 = `k1:${randomBytes(32).toString('base64')}`;
const KEY_2 = `k2:${randomBytes(32).toString('base64')}`;
const DID = 'did:plc:z72i7hdynmk6r22z27h6tvur';

describeEachBus('linked account store', (under) => {
  let bus: Bus;
  let store: LinkedAccountStore;
  let bucket: KvBucket;

  before(async () => {
    const natsUrl = under.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'linked-account-store-test' }) : createMemoryBus();
    store = await LinkedAccountStore.open(bus, TokenVault.fromKeyRing(KEY_1));
    bucket = await bus.kv(BUCKETS.linkedAccounts);
  });
  after(() => bus.close());

  it('keeps credentials sealed: views and raw KV never hold plaintext, withSecrets does', async () => {
    const view = await store.save({
      provider: 'twitch',
      accountId: '31',
      displayName: 'acme',
      channel: 'acme/show',
      scopes: [],
      secrets: { access_token: 'plain-access-31', refresh_token: 'plain-refresh-31' },
      expiresAtMs: Date.now() + 3_600_000,
    });
    assert.equal(view.status, 'active');
    assert.ok(!JSON.stringify(view).includes('plain-'), 'the view has no credentials');
    assert.ok(!JSON.stringify(await store.list()).includes('plain-'));
    const raw = decodeText((await bucket.get('twitch.31'))!.value);
    assert.ok(!raw.includes('plain-'), 'KV holds sealed values only');
    assert.match(raw, /"access_token":"v1\.k1\./);
    const secrets = await store.withSecrets('twitch', '31', (opened) => opened);
    assert.deepEqual(secrets, { access_token: 'plain-access-31', refresh_token: 'plain-refresh-31', app_password: null });
  });

  it('stores a DID under an encoded key and finds nothing for a look-alike', async () => {
    await store.save({ provider: 'bluesky', accountId: DID, displayName: 'acme.bsky.social', channel: 'acme/show', scopes: [], secrets: { app_password: 'abcd-efgh-ijkl-mnop' }, expiresAtMs: null });
    assert.equal((await store.get('bluesky', DID))?.display_name, 'acme.bsky.social');
    assert.equal(await store.get('bluesky', `${DID}x`), undefined);
    assert.equal(await store.withSecrets('bluesky', DID, (opened) => opened.app_password), 'abcd-efgh-ijkl-mnop');
  });

  it('refuses a tampered ciphertext and a record moved under another account', async () => {
    await store.save({ provider: 'twitch', accountId: '40', displayName: 'forty', channel: 'acme/forty', scopes: [], secrets: { access_token: 'plain-40' }, expiresAtMs: null });
    const entry = (await bucket.get('twitch.40'))!;
    const record = JSON.parse(decodeText(entry.value)) as { access_token: string };
    const parts = record.access_token.split('.');
    const bytes = Buffer.from(parts[3]!, 'base64url');
    bytes[0] = bytes[0]! ^ 0x80;
    parts[3] = bytes.toString('base64url');
    await bucket.put('twitch.40', new TextEncoder().encode(JSON.stringify({ ...record, access_token: parts.join('.') })));
    await assert.rejects(store.withSecrets('twitch', '40', (opened) => opened), TokenVaultError);

    // Another account's record copied under this key, account id rewritten: its ciphertexts are bound to 31.
    const other = JSON.parse(decodeText((await bucket.get('twitch.31'))!.value)) as Record<string, unknown>;
    await bucket.put('twitch.41', new TextEncoder().encode(JSON.stringify({ ...other, account_id: '41' })));
    await assert.rejects(store.withSecrets('twitch', '41', (opened) => opened), /failed authentication/);
    // Copied as it is, it is not account 41's record at all.
    await bucket.put('twitch.42', new TextEncoder().encode(JSON.stringify(other)));
    assert.equal(await store.get('twitch', '42'), undefined);
  });

  it('gives one refresh lease at a time and writes rotated tokens back', async () => {
    await store.save({ provider: 'twitch', accountId: '50', displayName: 'fifty', channel: 'acme/fifty', scopes: [], secrets: { access_token: 'a1', refresh_token: 'r1' }, expiresAtMs: Date.now() });
    const claim = await store.claimRefresh('twitch', '50', 30_000);
    assert.equal(claim?.refreshToken, 'r1');
    assert.equal(await store.claimRefresh('twitch', '50', 30_000), undefined, 'the lease is held');
    assert.equal(await store.completeRefresh(claim!, { accessToken: 'a2', refreshToken: 'r2', expiresAtMs: Date.now() + 60_000, scopes: [] }), true);
    assert.deepEqual(await store.withSecrets('twitch', '50', (opened) => [opened.access_token, opened.refresh_token]), ['a2', 'r2']);
    // A claim that lost its revision (the account was relinked meanwhile) writes nothing.
    const stale = await store.claimRefresh('twitch', '50', 30_000);
    await store.save({ provider: 'twitch', accountId: '50', displayName: 'fifty', channel: 'acme/fifty', scopes: [], secrets: { access_token: 'a3', refresh_token: 'r3' }, expiresAtMs: null });
    assert.equal(await store.completeRefresh(stale!, { accessToken: 'lost', refreshToken: null, expiresAtMs: null, scopes: [] }), false);
    assert.equal(await store.withSecrets('twitch', '50', (opened) => opened.access_token), 'a3');

    const marked = await store.markNeedsReauth('twitch', '50', 'refresh_refused');
    assert.equal(marked?.status, 'needs_reauth');
    assert.equal(await store.claimRefresh('twitch', '50', 30_000), undefined, 'no refresh for a link that needs reauth');
  });

  it('rotates every record to the current key; the old key can then be dropped', async () => {
    const rotated = await LinkedAccountStore.open(bus, TokenVault.fromKeyRing(`${KEY_2},${KEY_1}`));
    const summary = await rotated.rotate();
    assert.equal(summary.unreadable, 2, 'the two tampered/moved records are counted, not fatal');
    assert.ok(summary.resealed >= 3);
    assert.equal((await rotated.rotate()).resealed, 0, 'a second sweep finds nothing to do');
    const onlyNew = await LinkedAccountStore.open(bus, TokenVault.fromKeyRing(KEY_2));
    assert.equal(await onlyNew.withSecrets('bluesky', DID, (opened) => opened.app_password), 'abcd-efgh-ijkl-mnop');
    assert.equal(await onlyNew.withSecrets('twitch', '31', (opened) => opened.refresh_token), 'plain-refresh-31');
    await assert.rejects(store.withSecrets('twitch', '31', (opened) => opened), /unknown key id "k2"/);
  });
});
