import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClientActor } from './client-actor.js';

describe('createClientActor', () => {
  it('names a client by a keyed hash: stable per address, never the address, different under another secret', () => {
    const actor = createClientActor('a-secret-of-at-least-32-characters-0000');
    assert.match(actor('203.0.113.7'), /^client:[0-9a-f]{16}$/);
    assert.equal(actor('203.0.113.7'), actor('203.0.113.7'));
    assert.notEqual(actor('203.0.113.7'), actor('203.0.113.8'));
    assert.doesNotMatch(actor('203.0.113.7'), /203/);
    assert.notEqual(createClientActor('another-secret-of-at-least-32-chars-000')('203.0.113.7'), actor('203.0.113.7'));
  });
});
