import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LivePlaylistContinuation, playlistSegmentDurations } from './live-playlist-join.js';

/** A live playlist as ffmpeg's HLS muxer writes it (fMP4, program date-time, independent segments). */
function ffmpegPlaylist(options: { first: number; count: number; init: string; ended?: boolean; durationS?: (n: number) => number; startMs?: number }): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${options.first}`, '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-MAP:URI="${options.init}"`];
  for (let n = options.first; n < options.first + options.count; n += 1) {
    lines.push(`#EXTINF:${(options.durationS?.(n) ?? 2).toFixed(6)},`, `#EXT-X-PROGRAM-DATE-TIME:${new Date((options.startMs ?? 0) + n * 2000).toISOString()}`, `seg-${n}.m4s`);
  }
  if (options.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** The lines of a playlist that are not a segment's own (`#EXTINF`, date-time, URI). */
function structure(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#EXTINF') && !line.startsWith('#EXT-X-PROGRAM-DATE-TIME'));
}

describe('LivePlaylistContinuation', () => {
  // The old ladder: segments 0..25 written, its window 16..25, its last (25) cut short by its exit.
  const oldFinal = ffmpegPlaylist({ first: 16, count: 10, init: 'init_0.mp4', ended: true, durationS: (n) => (n === 25 ? 0.8 : 2) });

  it('lists the old window, then a discontinuity and the new init before the new segments, numbered on', () => {
    const continuation = new LivePlaylistContinuation(oldFinal, 10, 40);
    assert.equal(continuation.nextSequence, 26);
    // The new ffmpeg numbers its files from a start_number of its own (past every old file) and its media sequence with it.
    const joined = continuation.join(ffmpegPlaylist({ first: 40, count: 2, init: 'init_r1_720p.mp4' }));
    assert.deepEqual(structure(joined), [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA-SEQUENCE:18',
      '#EXT-X-MAP:URI="init_0.mp4"',
      ...['seg-18.m4s', 'seg-19.m4s', 'seg-20.m4s', 'seg-21.m4s', 'seg-22.m4s', 'seg-23.m4s', 'seg-24.m4s', 'seg-25.m4s'],
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="init_r1_720p.mp4"',
      'seg-40.m4s',
      'seg-41.m4s',
    ]);
    assert.doesNotMatch(joined, /ENDLIST/, 'the old ffmpeg\'s end is not the broadcast\'s');
    assert.match(continuation.join(ffmpegPlaylist({ first: 40, count: 3, init: 'init_r1_720p.mp4', ended: true })), /seg-42\.m4s\n#EXT-X-ENDLIST\n$/, 'the new one\'s is');
    // Each segment keeps its own duration and date-time.
    assert.match(joined, /#EXTINF:0\.800000,\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\nseg-25\.m4s/);
  });

  it('slides the window as ffmpeg does, counting the discontinuity that slid out', () => {
    const continuation = new LivePlaylistContinuation(oldFinal, 10, 40);
    // Nine new segments: one old one left, the discontinuity before the second listed.
    const nine = continuation.join(ffmpegPlaylist({ first: 40, count: 9, init: 'init_r1_720p.mp4' }));
    assert.deepEqual(structure(nine).slice(4, 9), ['#EXT-X-MEDIA-SEQUENCE:25', '#EXT-X-MAP:URI="init_0.mp4"', 'seg-25.m4s', '#EXT-X-DISCONTINUITY', '#EXT-X-MAP:URI="init_r1_720p.mp4"']);
    // Ten: the old ones gone; the new init is the header's, the discontinuity counted, not tagged.
    const ten = continuation.join(ffmpegPlaylist({ first: 40, count: 10, init: 'init_r1_720p.mp4' }));
    assert.deepEqual(structure(ten).slice(4, 8), ['#EXT-X-MEDIA-SEQUENCE:26', '#EXT-X-DISCONTINUITY-SEQUENCE:1', '#EXT-X-MAP:URI="init_r1_720p.mp4"', 'seg-40.m4s']);
    assert.doesNotMatch(ten, /#EXT-X-DISCONTINUITY\n/);
    // ffmpeg's own window slides too (its seg-45 is the joined sequence 31).
    const later = continuation.join(ffmpegPlaylist({ first: 45, count: 10, init: 'init_r1_720p.mp4' }));
    assert.deepEqual(structure(later).slice(4, 8), ['#EXT-X-MEDIA-SEQUENCE:31', '#EXT-X-DISCONTINUITY-SEQUENCE:1', '#EXT-X-MAP:URI="init_r1_720p.mp4"', 'seg-45.m4s']);
  });

  it('continues a playlist that was itself joined (a second replacement)', () => {
    const first = new LivePlaylistContinuation(oldFinal, 10, 40);
    const joinedOnce = first.join(ffmpegPlaylist({ first: 40, count: 4, init: 'init_r1_720p.mp4', ended: true }));
    const second = new LivePlaylistContinuation(joinedOnce, 10, 60);
    assert.equal(second.nextSequence, 30);
    const joinedTwice = second.join(ffmpegPlaylist({ first: 60, count: 1, init: 'init_r2_720p.mp4' }));
    assert.deepEqual(structure(joinedTwice).slice(4), [
      '#EXT-X-MEDIA-SEQUENCE:21',
      '#EXT-X-MAP:URI="init_0.mp4"',
      ...['seg-21.m4s', 'seg-22.m4s', 'seg-23.m4s', 'seg-24.m4s', 'seg-25.m4s'],
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="init_r1_720p.mp4"',
      ...['seg-40.m4s', 'seg-41.m4s', 'seg-42.m4s', 'seg-43.m4s'],
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="init_r2_720p.mp4"',
      'seg-60.m4s',
    ]);
    const slid = second.join(ffmpegPlaylist({ first: 60, count: 6, init: 'init_r2_720p.mp4' }));
    assert.deepEqual(structure(slid).slice(4, 8), ['#EXT-X-MEDIA-SEQUENCE:26', '#EXT-X-DISCONTINUITY-SEQUENCE:1', '#EXT-X-MAP:URI="init_r1_720p.mp4"', 'seg-40.m4s']);
  });

  it('keeps the joined sequence numbers stable from one playlist to the next', () => {
    const continuation = new LivePlaylistContinuation(oldFinal, 10, 40);
    const sequenceOf = (text: string, uri: string) => {
      const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]);
      return msn + playlistSegmentDurations(text).findIndex((segment) => segment.uri === uri);
    };
    const a = continuation.join(ffmpegPlaylist({ first: 40, count: 3, init: 'init_r1_720p.mp4' }));
    const b = continuation.join(ffmpegPlaylist({ first: 40, count: 7, init: 'init_r1_720p.mp4' }));
    for (const uri of ['seg-24.m4s', 'seg-25.m4s', 'seg-40.m4s', 'seg-42.m4s']) assert.equal(sequenceOf(a, uri), sequenceOf(b, uri), uri);
    assert.equal(sequenceOf(b, 'seg-40.m4s'), 26);
  });

  it('reads the segments and durations of a playlist', () => {
    const segments = playlistSegmentDurations(oldFinal);
    assert.equal(segments.length, 10);
    assert.deepEqual(segments.at(-1), { uri: 'seg-25.m4s', durationS: 0.8 });
  });
});
