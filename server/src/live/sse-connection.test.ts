import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import { SseFrameCache } from './sse-connection.js';
import { formatCursor } from './sse-cursor.js';

describe('SseFrameCache', () => {
  it('encodes a frame once for every connection that sends the same bytes, and anew when anything differs', () => {
    const frames = new SseFrameCache();
    const first = frames.bytes('status', 'acme/show:3', '{"seq":3}');
    assert.equal(first.toString('utf8'), 'event: status\nid: acme/show:3\ndata: {"seq":3}\n\n');
    assert.equal(frames.bytes('status', 'acme/show:3', '{"seq":3}'), first, 'the same Buffer, not a copy');
    assert.notEqual(frames.bytes('snapshot', 'acme/show:3', '{"seq":3}'), first);
    assert.equal(frames.bytes('status', 'acme/show:3,other/show:1', '{"seq":3}').toString('utf8'), 'event: status\nid: acme/show:3,other/show:1\ndata: {"seq":3}\n\n');
  });

  it('is state of its owner: a second cache does not see the first one\'s frame', () => {
    const one = new SseFrameCache();
    const other = new SseFrameCache();
    const frame = one.bytes('status', '1', '{}');
    assert.notEqual(other.bytes('status', '1', '{}'), frame);
  });

  it('gives single-channel connections the frame with their whole cursor as its id, built once per record', () => {
    const frames = new SseFrameCache();
    const record = { channel: 'acme/show', seq: 7 } as LiveMetadata;
    const serialized = '{"channel":"acme/show","seq":7}';
    const first = frames.single('status', record, serialized);
    assert.equal(first.toString('utf8'), frames.bytes('status', formatCursor(new Map([['acme/show', 7]])), serialized).toString('utf8'));
    assert.equal(frames.single('status', record, serialized), first, 'the same Buffer, not a copy');
    assert.notEqual(frames.single('snapshot', record, serialized), first);
    assert.match(frames.single('status', { channel: 'acme/show', seq: 8 } as LiveMetadata, '{"seq":8}').toString('utf8'), /^event: status\nid: acme\/show=8\ndata: \{"seq":8\}\n\n$/);
  });
});
