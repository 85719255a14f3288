import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { readMp4BoxLayout } from './mp4-boxes.js';
import { isAllowedVideoType, sniffFileType } from './sniff-file-type.js';

describe('sniffFileType', () => {
  let fixtures: MediaFixtures;
  before(async () => {
    fixtures = await mediaFixtures();
  });

  it('allows an MP4 and a WebM by their magic bytes', async () => {
    const mp4 = await sniffFileType(fixtures.validMp4);
    assert.deepEqual(mp4, { mime: 'video/mp4', ext: 'mp4' });
    assert.equal(isAllowedVideoType(mp4), true);
    const webm = await sniffFileType(fixtures.validWebm);
    assert.deepEqual(webm, { mime: 'video/webm', ext: 'webm' });
    assert.equal(isAllowedVideoType(webm), true);
  });

  it('does not recognise an HTML page named .mp4', async () => {
    const sniffed = await sniffFileType(fixtures.htmlAsMp4);
    assert.equal(sniffed, undefined);
    assert.equal(isAllowedVideoType(sniffed), false);
  });

  it('recognises ELF and PE executables named .mp4 and does not allow them', async () => {
    const elf = await sniffFileType(fixtures.elfAsMp4);
    assert.equal(elf?.mime, 'application/x-elf');
    assert.equal(isAllowedVideoType(elf), false);
    const pe = await sniffFileType(fixtures.peAsMp4);
    assert.equal(pe?.mime, 'application/x-msdownload');
    assert.equal(isAllowedVideoType(pe), false);
  });

  it('finds nothing in a zero-byte file', async () => {
    assert.equal(await sniffFileType(fixtures.emptyMp4), undefined);
  });

  it('passes an MP4 with HTML appended: magic bytes alone cannot see a polyglot, the box walk can', async () => {
    assert.equal(isAllowedVideoType(await sniffFileType(fixtures.polyglotMp4)), true);
    const layout = await readMp4BoxLayout(fixtures.polyglotMp4);
    assert.ok(layout.trailingBytes > 0);
    assert.equal((await readMp4BoxLayout(fixtures.validMp4)).trailingBytes, 0);
  });
});
