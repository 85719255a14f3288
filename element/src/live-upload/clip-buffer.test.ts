import { expect } from '@open-wc/testing';
import { describe, it } from '../testing/mocha.js';
import { ClipBuffer, concatSegments, type BufferedSegment } from './clip-buffer.js';

const T0 = Date.parse('2026-03-01T18:00:00Z');
const segment = (sn: number, durationMs = 2000, fill = sn): BufferedSegment => ({ sn, programDateMs: T0 + sn * 2000, durationMs, bytes: new Uint8Array([fill, fill]) });

describe('ClipBuffer', () => {
  it('selects the segments covering the last N seconds before the playhead, with the cut inside them', () => {
    const buffer = new ClipBuffer(60_000);
    for (let sn = 0; sn < 10; sn++) buffer.add(segment(sn));
    const selection = buffer.select(T0 + 15_000, 6000)!;
    expect(selection.segments.map((s) => s.sn)).to.deep.equal([4, 5, 6, 7]);
    expect(selection.offsetMs).to.equal(1000);
    expect(selection.durationMs).to.equal(6000);
    expect([selection.fromMs - T0, selection.toMs - T0]).to.deep.equal([9000, 15000]);
    expect([...concatSegments(selection)]).to.deep.equal([4, 4, 5, 5, 6, 6, 7, 7]);
  });

  it('clamps to what it holds and answers undefined with nothing to clip', () => {
    const buffer = new ClipBuffer(60_000);
    expect(buffer.select(T0, 6000)).to.equal(undefined);
    buffer.add(segment(0));
    expect(buffer.select(T0, 6000), 'playhead at the first frame').to.equal(undefined);
    const short = buffer.select(T0 + 60_000, 30_000)!;
    expect(short.durationMs).to.equal(2000);
    expect(buffer.select(Number.NaN, 6000)).to.equal(undefined);
    expect(buffer.select(T0 + 1000, 0)).to.equal(undefined);
  });

  it('keeps only keepMs of program time, and restarts on a gap or a step back', () => {
    const buffer = new ClipBuffer(6000);
    for (let sn = 0; sn < 10; sn++) buffer.add(segment(sn));
    expect(buffer.segments.map((s) => s.sn)).to.deep.equal([6, 7, 8, 9]);
    buffer.add(segment(9));
    expect(buffer.segments.length, 'a segment already held is not added twice').to.equal(4);
    buffer.add(segment(12));
    expect(buffer.segments.map((s) => s.sn), 'a gap restarts the window').to.deep.equal([12]);
    buffer.add(segment(3));
    expect(buffer.segments.map((s) => s.sn), 'a seek back restarts it too').to.deep.equal([3]);
  });

  it('ignores hostile segments: no date, bad duration, bad sequence number', () => {
    const buffer = new ClipBuffer(60_000);
    buffer.add({ ...segment(0), programDateMs: Number.NaN });
    buffer.add({ ...segment(1), durationMs: -5 });
    buffer.add({ ...segment(2), durationMs: Number.NaN });
    buffer.add({ ...segment(3), sn: 1.5 });
    expect(buffer.segments).to.deep.equal([]);
  });

  it('puts the fMP4 init segment first, and a new rendition starts over', () => {
    const buffer = new ClipBuffer(60_000);
    buffer.setInit(new Uint8Array([9]));
    buffer.add(segment(0));
    buffer.add(segment(1));
    buffer.setInit(new Uint8Array([9]));
    expect(buffer.segments.length, 'the same init keeps the segments').to.equal(2);
    expect([...concatSegments(buffer.select(T0 + 4000, 4000)!)]).to.deep.equal([9, 0, 0, 1, 1]);
    buffer.setInit(new Uint8Array([8]));
    expect(buffer.segments).to.deep.equal([]);
  });
});
