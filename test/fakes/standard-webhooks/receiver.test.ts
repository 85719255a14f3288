import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { verifyStandardWebhook } from './receiver.js';

/** The fake's verifier against the spec's published example, independent of our signer. */
describe('fake Standard Webhooks receiver', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const body = '{"test": 2432232314}';

  it('accepts the published test vector and rejects tampering, staleness and missing headers', () => {
    const headers = { id, timestamp: '1614265330', signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    assert.equal(verifyStandardWebhook([secret], headers, body, 1614265330), undefined);
    assert.equal(verifyStandardWebhook([secret], headers, `${body} `, 1614265330), 'no signature matched');
    assert.equal(verifyStandardWebhook([secret], headers, body, 1614265330 + 301), 'timestamp outside tolerance');
    assert.equal(verifyStandardWebhook([secret], { ...headers, signature: undefined }, body, 1614265330), 'missing header');
    assert.equal(verifyStandardWebhook([secret], { ...headers, timestamp: '16e8' }, body, 1614265330), 'invalid timestamp');
    assert.equal(verifyStandardWebhook(['whsec_' + Buffer.alloc(24, 1).toString('base64')], headers, body, 1614265330), 'no signature matched');
  });

  it('accepts any matching v1 entry of a space-separated list', () => {
    const now = 1_700_000_000;
    const mac = createHmac('sha256', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64')).update(`${id}.${now}.${body}`).digest('base64');
    const signature = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,${mac} v1,${mac}`;
    assert.equal(verifyStandardWebhook([secret], { id, timestamp: String(now), signature }, body, now), undefined);
    assert.equal(verifyStandardWebhook([secret], { id, timestamp: String(now), signature: `v2,${mac}` }, body, now), 'no signature matched');
  });
});
