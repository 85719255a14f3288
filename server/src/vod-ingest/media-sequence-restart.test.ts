import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MediaPlaylist } from './media-playlist.js';
import { MediaSequenceRestarts } from './media-sequence-restart.js';

/** A live window of `uris` from `mediaSequence`. */
function playlist(mediaSequence: number, uris: readonly string[]): MediaPlaylist {
  return {
    kind: 'media',
    targetDurationS: 2,
    mediaSequence,
    discontinuitySequence: 0,
    endlist: false,
    segments: uris.map((uri, i) => ({
      sequence: mediaSequence + i,
      url: `https://origin.example/live/${uri}`,
      durationS: 2,
      discontinuity: false,
      discontinuitySequence: 0,
      gap: false,
    })),
  };
}

const sequencesOf = (result: ReturnType<MediaSequenceRestarts['next']>) => (result.kind === 'stale' ? 'stale' : result.playlist.segments.map((segment) => segment.sequence));

describe('MediaSequenceRestarts', () => {
  it('passes a steadily moving window through unchanged', () => {
    const restarts = new MediaSequenceRestarts(undefined);
    const first = playlist(10, ['a10.ts', 'a11.ts', 'a12.ts']);
    assert.equal(restarts.next(first, null).kind, 'current');
    const second = restarts.next(playlist(11, ['a11.ts', 'a12.ts', 'a13.ts']), 12);
    assert.equal(second.kind, 'current');
    assert.deepEqual(sequencesOf(second), [11, 12, 13]);
    assert.equal(restarts.current, undefined);
  });

  it('takes a window moved back with the same segments as stale, even when their query tokens changed', () => {
    const restarts = new MediaSequenceRestarts(undefined);
    restarts.next(playlist(11, ['a11.ts?token=1', 'a12.ts?token=1', 'a13.ts?token=1']), null);
    assert.equal(restarts.next(playlist(10, ['a10.ts?token=2', 'a11.ts?token=2', 'a12.ts?token=2']), 13).kind, 'stale');
    assert.equal(restarts.current, undefined);
  });

  it('renumbers a restarted source after the archive, marks the first segment, and keeps the numbering', () => {
    const restarts = new MediaSequenceRestarts(undefined);
    restarts.next(playlist(50, ['a50.ts', 'a51.ts']), null);
    const restarted = restarts.next(playlist(0, ['b0.ts', 'b1.ts']), 51);
    assert.equal(restarted.kind, 'restarted');
    assert.deepEqual(restarts.current, { offset: 52, atSequence: 52, count: 1 });
    assert.deepEqual(sequencesOf(restarted), [52, 53]);
    assert.deepEqual(restarted.kind === 'restarted' && restarted.playlist.segments.map((segment) => segment.discontinuity), [true, false]);
    const later = restarts.next(playlist(1, ['b1.ts', 'b2.ts']), 53);
    assert.equal(later.kind, 'current');
    assert.deepEqual(sequencesOf(later), [53, 54]);
    // A lagging copy of the old timeline after the restart is stale, not new.
    assert.equal(restarts.next(playlist(50, ['a50.ts', 'a51.ts']), 54).kind, 'stale');
  });

  it('an empty playlist (an origin between two encoders) neither restarts nor forgets the previous window', () => {
    const restarts = new MediaSequenceRestarts(undefined);
    restarts.next(playlist(50, ['a50.ts', 'a51.ts']), null);
    assert.equal(restarts.next(playlist(0, []), 51).kind, 'current');
    assert.equal(restarts.current, undefined);
    assert.equal(restarts.next(playlist(0, ['b0.ts']), 51).kind, 'restarted');
  });

  it('resumed from a manifest: a whole window behind the archive is a restart; a numbering recorded before goes on', () => {
    const fresh = new MediaSequenceRestarts(undefined);
    assert.equal(fresh.next(playlist(0, ['b0.ts', 'b1.ts']), 51).kind, 'restarted');
    const resumed = new MediaSequenceRestarts({ offset: 52, atSequence: 52, count: 1 });
    const current = resumed.next(playlist(1, ['b1.ts', 'b2.ts']), 53);
    assert.equal(current.kind, 'current');
    assert.deepEqual(sequencesOf(current), [53, 54]);
  });
});
