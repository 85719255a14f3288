import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseFrameCache } from './sse-connection.js';

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
});
