import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBlueskyDid, isYoutubeChannelId } from './provider-ids.js';

describe('provider account ids', () => {
  it('accepts YouTube channel ids: UC and 22 base64url characters', () => {
    for (const id of ['UC_x5XG1OV2P6uZZ5FSM9Ttw', 'UCaaaaaaaaaaaaaaaaaaaa-_', 'UC0123456789ABCDEFabcdef']) assert.equal(isYoutubeChannelId(id), true, id);
    for (const id of ['', 'UC', 'UC_x5XG1OV2P6uZZ5FSM9Tt', 'UC_x5XG1OV2P6uZZ5FSM9Ttww', 'uc_x5XG1OV2P6uZZ5FSM9Ttw', 'HC_x5XG1OV2P6uZZ5FSM9Ttw',
      'UC_x5XG1OV2P6uZZ5FSM9T.w', 'UC_x5XG1OV2P6uZZ5FSM9T/w', 'UC_x5XG1OV2P6uZZ5FSM9T w', 'UC_x5XG1OV2P6uZZ5FSM9Ttw\n', 42, null]) {
      assert.equal(isYoutubeChannelId(id), false, String(id));
    }
  });

  it('accepts did:plc and host-level did:web, and nothing else', () => {
    for (const did of ['did:plc:z72i7hdynmk6r22z27h6tvur', 'did:web:example.com', 'did:web:bsky.social', 'did:web:a-b.c.example']) assert.equal(isBlueskyDid(did), true, did);
    for (const did of ['', 'did:plc:', 'did:plc:z72i7hdynmk6r22z27h6tvu', 'did:plc:z72i7hdynmk6r22z27h6tvurr', 'did:plc:Z72I7HDYNMK6R22Z27H6TVUR', 'did:plc:z72i7hdynmk6r22z27h6tvu1',
      'did:web:localhost', 'did:web:example.com:user:alice', 'did:web:example.com%3A8080', 'did:web:-a.com', 'did:web:a..com', 'did:web:EXAMPLE.com', 'did:web:example.com/',
      `did:web:${'a'.repeat(250)}.com`, 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', 'DID:plc:z72i7hdynmk6r22z27h6tvur', ' did:plc:z72i7hdynmk6r22z27h6tvur', 'at://did:plc:z72i7hdynmk6r22z27h6tvur', {}, 7]) {
      assert.equal(isBlueskyDid(did), false, String(did));
    }
  });
});
