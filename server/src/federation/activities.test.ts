import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCHEMA_VERSION, type LiveMetadata } from '@live-upload/schema';
import { liveNote, noteDiffers, noteUpdateActivity, rejectFollowActivity } from './activities.js';

const BASE = 'https://live.example';
const REF = { publisher: 'acme', slug: 'news' };

function live(overrides: Partial<LiveMetadata>): LiveMetadata & { canonical_id: string } {
  return {
    version: SCHEMA_VERSION,
    canonical_id: 'stream:acme:news:01JF0000000000000000000001',
    channel: 'acme/news',
    providers: {},
    status: 'live',
    started_at: '2026-12-07T07:00:00.000Z',
    ended_at: null,
    title: 'Morning',
    viewer_count: 10,
    latency_ms: null,
    is_public: true,
    tags: ['news'],
    badge: { label: 'Live', color: '#e00', animate: true },
    updated_at: '2026-12-07T07:00:01.000Z',
    seq: 1,
    sources: {},
    ...overrides,
  } as LiveMetadata & { canonical_id: string };
}

describe('the live note and its Update', () => {
  const first = liveNote(BASE, live({}), REF, 'https://img.example/a.jpg');

  it('differs when the title, the preview image or the tags change', () => {
    assert.equal(noteDiffers(first, liveNote(BASE, live({ title: 'Evening' }), REF, 'https://img.example/a.jpg')), true);
    assert.equal(noteDiffers(first, liveNote(BASE, live({}), REF, 'https://img.example/b.jpg')), true);
    assert.equal(noteDiffers(first, liveNote(BASE, live({}), REF, undefined)), true);
    assert.equal(noteDiffers(first, liveNote(BASE, live({ tags: ['news', 'sport'] }), REF, 'https://img.example/a.jpg')), true);
  });

  it('does not differ for what the note does not show: viewers, latency, the record\'s time and seq', () => {
    const same = liveNote(BASE, live({ viewer_count: 999, latency_ms: 1200, updated_at: '2026-12-07T08:00:00.000Z', seq: 9 }), REF, 'https://img.example/a.jpg');
    assert.equal(noteDiffers(first, same), false);
  });

  it('updates the same note, its first published kept, with an id per status record and an updated time (Mastodon drops an older Update)', () => {
    const changed = liveNote(BASE, live({ title: 'Evening' }), REF, 'https://img.example/a.jpg');
    const update = noteUpdateActivity(BASE, REF, { ...changed, published: first['published'] }, '2026-12-07T07:30:00.000Z', 7);
    const note = update['object'] as Record<string, unknown>;
    assert.equal(update['type'], 'Update');
    assert.equal(update['actor'], `${BASE}/ap/actors/acme.news`);
    assert.equal(note['id'], first['id']);
    assert.equal(note['published'], '2026-12-07T07:00:00.000Z');
    assert.equal(note['updated'], '2026-12-07T07:30:00.000Z');
    assert.equal(update['id'], `${String(first['id'])}/updates/7`);
    assert.notEqual(noteUpdateActivity(BASE, REF, changed, '2026-12-07T07:31:00.000Z', 8)['id'], update['id']);
  });

  it('rejects a follow by its id, from the channel\'s actor', () => {
    const reject = rejectFollowActivity(BASE, REF, 'https://social.example/users/alice', 'https://social.example/follows/1');
    assert.equal(reject['type'], 'Reject');
    assert.deepEqual(reject['object'], { id: 'https://social.example/follows/1', type: 'Follow', actor: 'https://social.example/users/alice', object: `${BASE}/ap/actors/acme.news` });
  });
});
