import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { channelInputSchema } from './channel-config.js';
import { ChannelRegistry } from './channel-registry.js';

const YOUTUBE = 'UC_x5XG1OV2P6uZZ5FSM9Ttw';
const DID_PLC = 'did:plc:z72i7hdynmk6r22z27h6tvur';
const DID_WEB = 'did:web:acme-tv.example';

describeEachBus('channel registry', (under) => {
  let bus: Bus;
  let registry: ChannelRegistry;

  before(async () => {
    const natsUrl = under.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'channel-registry-test' }) : createMemoryBus();
    registry = await ChannelRegistry.open(bus);
  });
  after(() => bus.close());

  it('finds a channel by its Twitch, YouTube or Bluesky account, and nothing for a malformed id', async () => {
    await registry.upsert({ publisher: 'acme', slug: 'all' }, { providers: { twitch: { user_id: '31', login: 'acme' }, youtube: { channel_id: YOUTUBE }, bluesky: { did: DID_PLC } } });
    await registry.upsert({ publisher: 'acme', slug: 'web' }, { providers: { bluesky: { did: DID_WEB } } });
    assert.equal(await registry.findByAccount('twitch', '31'), 'acme/all');
    assert.equal(await registry.findByAccount('youtube', YOUTUBE), 'acme/all');
    assert.equal(await registry.findByAccount('bluesky', DID_PLC), 'acme/all');
    assert.equal(await registry.findByAccount('bluesky', DID_WEB), 'acme/web');
    // A DID is not a KV key as it is; its encoding must not make another id match.
    assert.equal(await registry.findByAccount('bluesky', 'did:web:acme-tv.exampl'), undefined);
    for (const bad of ['', '*', '>', 'a.b', '../31', YOUTUBE.toLowerCase(), `${DID_PLC}x`]) {
      assert.equal(await registry.findByAccount('youtube', bad), undefined, bad);
      assert.equal(await registry.findByAccount('bluesky', bad), undefined, bad);
    }
  });

  it('refuses an account linked elsewhere and gives back what the refused write claimed', async () => {
    await assert.rejects(
      registry.upsert({ publisher: 'acme', slug: 'other' }, { providers: { twitch: { user_id: '77', login: 'free' }, youtube: { channel_id: YOUTUBE } } }),
      (error) => error instanceof AppError && error.code === 'conflict',
    );
    assert.equal(await registry.findByAccount('twitch', '77'), undefined, 'the free Twitch account was released');
    assert.equal(await registry.get({ publisher: 'acme', slug: 'other' }), undefined, 'nothing was written');
  });

  it('lists Twitch links with their state', async () => {
    await registry.upsert({ publisher: 'beta', slug: 'show' }, { providers: { twitch: { user_id: '32', login: 'beta' } } });
    await registry.markRevoked('twitch', '32', 'user_removed');
    const links = await registry.listTwitchLinks();
    assert.deepEqual(
      links.map(({ channel, user_id, state, revoked_reason }) => ({ channel, user_id, state, revoked_reason })),
      [
        { channel: 'acme/all', user_id: '31', state: 'active', revoked_reason: undefined },
        { channel: 'beta/show', user_id: '32', state: 'revoked', revoked_reason: 'user_removed' },
      ],
    );
  });

  it('links one account at a time, keeping the other links and settings, and unlinks it', async () => {
    const ref = { publisher: 'link', slug: 'show' };
    await assert.rejects(registry.linkAccount(ref, { provider: 'twitch', user_id: '90', login: 'x' }), (error) => error instanceof AppError && error.code === 'not_found');
    assert.equal(await registry.findByAccount('twitch', '90'), undefined, 'nothing claimed for a missing channel');
    await registry.upsert(ref, { title: 'Show', uploads: 'open', providers: { youtube: { channel_id: YOUTUBE.replace('UC_', 'UCa') } } });
    const linked = await registry.linkAccount(ref, { provider: 'twitch', user_id: '90', login: 'Link_Show' });
    assert.deepEqual(linked.providers.twitch, { user_id: '90', login: 'link_show', state: 'active' });
    assert.equal(linked.providers.youtube?.channel_id, YOUTUBE.replace('UC_', 'UCa'), 'the YouTube link stays');
    assert.equal(linked.title, 'Show');
    assert.equal(linked.uploads, 'open');
    assert.equal(await registry.findByAccount('twitch', '90'), 'link/show');

    // Another Twitch account replaces the first, which is freed.
    await registry.linkAccount(ref, { provider: 'twitch', user_id: '91', login: 'second' });
    assert.equal(await registry.findByAccount('twitch', '90'), undefined);
    assert.equal(await registry.findByAccount('twitch', '91'), 'link/show');

    const unlinked = await registry.unlinkAccount(ref, 'twitch');
    assert.equal(unlinked.providers.twitch, undefined);
    assert.equal(unlinked.providers.youtube?.channel_id, YOUTUBE.replace('UC_', 'UCa'));
    assert.equal(await registry.findByAccount('twitch', '91'), undefined);
    assert.equal((await registry.unlinkAccount(ref, 'twitch')).providers.twitch, undefined, 'unlinking twice is harmless');
  });

  it('refuses to link an account that belongs to another channel', async () => {
    const ref = { publisher: 'link', slug: 'thief' };
    await registry.upsert(ref, { providers: {} });
    await assert.rejects(registry.linkAccount(ref, { provider: 'bluesky', did: DID_PLC }), (error) => error instanceof AppError && error.code === 'conflict');
    assert.equal(await registry.findByAccount('bluesky', DID_PLC), 'acme/all');
    assert.equal((await registry.get(ref))?.providers.bluesky, undefined);
  });

  it('keeps the playback URL when an update omits it and removes it with null', async () => {
    const ref = { publisher: 'acme', slug: 'player' };
    const hls = 'https://cdn.example/live.m3u8';
    assert.deepEqual((await registry.upsert(ref, { playback: { hls }, providers: {} })).config.playback, { hls });
    assert.deepEqual((await registry.upsert(ref, { title: 'x', providers: {} })).config.playback, { hls });
    assert.equal((await registry.upsert(ref, { playback: null, providers: {} })).config.playback, null);
  });

  it('gives a new channel the unlisted VOD policy, keeps a set one when an update omits it, and refuses an unknown one', async () => {
    const ref = { publisher: 'acme', slug: 'replays' };
    assert.equal((await registry.upsert(ref, { providers: {} })).config.vod, 'unlisted');
    assert.equal((await registry.upsert(ref, { vod: 'public', providers: {} })).config.vod, 'public');
    assert.equal((await registry.upsert(ref, { title: 'x', providers: {} })).config.vod, 'public');
    assert.equal((await registry.upsert(ref, { vod: 'off', providers: {} })).config.vod, 'off');
    for (const bad of ['Public', 'private', '', null, 1]) assert.equal(channelInputSchema.safeParse({ vod: bad, providers: {} }).success, false, String(bad));
  });
});
