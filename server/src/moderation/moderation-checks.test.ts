import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import type { UploadRecord } from '../uploads/index.js';
import { magicBytesCheck } from './magic-bytes-check.js';
import { runModerationCheck, type ModerationCheck } from './moderation-check.js';
import { builtInModerationRules, type ResolvedModerationRules } from './moderation-rules.js';
import { textCheck } from './text-check.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';

const upload = (extra: Partial<UploadRecord> = {}): UploadRecord =>
  uploadRecordFixture({ upload_id: '01JABCDEFGHJKMNPQRSTVWXYZ0', status: 'checking', ...extra }, Date.parse('2026-01-01T00:00:00.000Z'));

const rules: ResolvedModerationRules = { rules: builtInModerationRules(), version: 0, scope: 'default' };

describe('moderation checks', () => {
  let fixtures: MediaFixtures;
  before(async () => {
    fixtures = await mediaFixtures();
  });

  it('magic bytes: rejects zero bytes without running any tool, and a PE executable named .mp4; passes a real MP4', async () => {
    const check = magicBytesCheck();
    const empty = await check.run({ path: fixtures.emptyMp4, upload: upload(), facts: {}, rules });
    assert.deepEqual([empty.result, empty.reason], ['fail', 'the file is empty (zero bytes)']);
    const pe = await check.run({ path: fixtures.peAsMp4, upload: upload(), facts: {}, rules });
    assert.equal(pe.result, 'fail');
    assert.match(pe.reason ?? '', /not an allowed video type|not a recognised video/);
    const good = await check.run({ path: fixtures.validMp4, upload: upload(), facts: {}, rules });
    assert.equal(good.result, 'pass', good.reason);
    assert.equal(good.details?.['detected_type'], 'video/mp4');
  });

  it('text: fails an obscene title or file name (leetspeak too) and passes ordinary words', async () => {
    const check = textCheck();
    const run = (extra: Partial<UploadRecord>) => check.run({ path: '/nonexistent', upload: upload(extra), facts: {}, rules });
    assert.equal((await run({ title: 'Best moment of the Scunthorpe game' })).result, 'pass');
    const title = await run({ title: 'what the fuck' });
    assert.deepEqual([title.result, title.reason], ['fail', 'obscene language in the title']);
    assert.equal((await run({ filename: 'sh1t.mp4' })).reason, 'obscene language in the filename');
  });

  it('a classifier that throws is recorded as an error, with no server path in the reason', async () => {
    const broken: ModerationCheck = {
      name: 'classifier',
      run: async ({ path }) => {
        throw new Error(`model crashed on ${path}`);
      },
    };
    const result = await runModerationCheck(broken, { path: '/srv/quarantine/X', upload: upload(), facts: {}, rules });
    assert.equal(result.result, 'error');
    assert.equal(result.reason, 'the check could not run: model crashed on input');
  });
});
