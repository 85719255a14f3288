import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { IngestError } from './ingest-error.js';
import { detectSegmentFormat, sniffSegmentBody } from './segment-format.js';

const tsPacket = () => Buffer.concat([Buffer.from([0x47, 0x40, 0x00, 0x10]), Buffer.alloc(184, 0xff)]);
const box = (type: string, size = 24) => Buffer.concat([Buffer.from([0, 0, 0, size]), Buffer.from(type, 'latin1'), Buffer.alloc(size - 8)]);

describe('detectSegmentFormat', () => {
  it('knows MPEG-TS by two sync bytes 188 apart', () => {
    assert.equal(detectSegmentFormat(Buffer.concat([tsPacket(), tsPacket()])), 'mpeg_ts');
    assert.equal(detectSegmentFormat(tsPacket()), 'mpeg_ts');
    const broken = Buffer.concat([tsPacket(), Buffer.from('<html>')]);
    assert.equal(detectSegmentFormat(broken), undefined);
    assert.equal(detectSegmentFormat(Buffer.from('G is not a transport stream')), undefined);
  });

  it('knows fragmented MP4 by its first box', () => {
    for (const type of ['styp', 'moof', 'ftyp', 'sidx', 'emsg']) assert.equal(detectSegmentFormat(box(type)), 'fmp4', type);
    assert.equal(detectSegmentFormat(box('mdat')), undefined);
    assert.equal(detectSegmentFormat(Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('moof')])), undefined);
  });

  it('knows packed audio by its ID3 tag or ADTS sync word', () => {
    assert.equal(detectSegmentFormat(Buffer.from('ID3\x04\x00\x00', 'latin1')), 'packed_audio');
    assert.equal(detectSegmentFormat(Buffer.from([0xff, 0xf1, 0x50, 0x80])), 'packed_audio');
  });

  it('refuses HTML, JSON, text and nothing', () => {
    for (const text of ['<!doctype html><html>', '{"error":"not found"}', 'Access denied', '']) {
      assert.equal(detectSegmentFormat(Buffer.from(text)), undefined, text);
    }
  });
});

describe('sniffSegmentBody', () => {
  it('hands back every byte, the sniffed head first, however the chunks fall', async () => {
    const data = Buffer.concat(Array.from({ length: 20 }, tsPacket));
    const chunks = [data.subarray(0, 3), data.subarray(3, 100), data.subarray(100, 1000), data.subarray(1000)];
    const sniffed = await sniffSegmentBody(Readable.from(chunks), 'segment 1', 10_000);
    assert.equal(sniffed.format, 'mpeg_ts');
    assert.deepEqual(Buffer.concat(await sniffed.body.toArray()), data);
    assert.equal(sniffed.bytes(), data.length);
  });

  it('errors the body past the byte cap', async () => {
    const sniffed = await sniffSegmentBody(Readable.from(Array.from({ length: 100 }, tsPacket)), 'segment 2', 188 * 10);
    await assert.rejects(sniffed.body.toArray(), (error: unknown) => error instanceof IngestError && error.reason === 'segment_too_large');
  });

  it('refuses a body that is not a segment before handing back a byte', async () => {
    await assert.rejects(
      sniffSegmentBody(Readable.from([Buffer.from('<!doctype html><html><body>challenge</body></html>'.repeat(10))]), 'segment 3', 10_000),
      (error: unknown) => error instanceof IngestError && error.reason === 'not_media' && /segment 3/.test(error.message),
    );
  });
});
