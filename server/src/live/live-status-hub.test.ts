import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import { offlineRecord } from '../../../test/support/live-metadata-fixture.js';
import { createMemoryBus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { LiveStatusHub } from './live-status-hub.js';

const offline = (channel: string): LiveMetadata => offlineRecord(channel);

it('holds no state for names that are not channels, however many are asked for', async () => {
  const bus = createMemoryBus();
  const known = new Set(['acme/morning-show']);
  const emitted = (channel: string): LiveMetadata => ({ ...offline(channel), seq: 3 });
  const hub = new LiveStatusHub(bus, async (channel) => (known.has(channel) ? emitted(channel) : undefined), offline, createLogger({ level: 'silent' }));
  try {
    for (let i = 0; i < 1_000; i++) assert.equal(await hub.current(`acme/made-up-${i}`), undefined);
    assert.equal(hub.trackedChannels, 0, 'unknown names are not remembered');
    assert.equal((await hub.current('acme/morning-show'))?.record.channel, 'acme/morning-show');
    assert.equal(hub.trackedChannels, 1, 'a known channel is cached');
    const stop = hub.listen('acme/not-yet', () => undefined);
    assert.equal(hub.trackedChannels, 2, 'a followed name is held while followed');
    stop();
    assert.equal(hub.trackedChannels, 1, 'and dropped when nobody follows it');
  } finally {
    await bus.close();
  }
});

it('reads a channel that never emitted afresh each time: its record follows the config, and no status event says when that changes', async () => {
  const bus = createMemoryBus();
  let title: string | null = null;
  const hub = new LiveStatusHub(bus, async (channel) => ({ ...offline(channel), title }), offline, createLogger({ level: 'silent' }));
  try {
    assert.equal((await hub.current('acme/morning-show'))?.record.title, null);
    title = 'Set by the admin';
    const reread = await hub.current('acme/morning-show');
    assert.equal(reread?.record.title, 'Set by the admin');
    assert.equal(JSON.parse(reread!.serialized).title, 'Set by the admin');
    assert.equal(hub.trackedChannels, 0, 'nothing is kept for it');
    hub.accept({ ...offline('acme/morning-show'), title: 'Emitted', seq: 1 });
    title = 'Not read any more';
    assert.equal((await hub.current('acme/morning-show'))?.record.title, 'Emitted', 'from the first emit on, the bus keeps it current');
  } finally {
    await bus.close();
  }
});
