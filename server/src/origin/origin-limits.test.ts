import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIVE_LADDER_OPTIONS } from './live-ladder.js';
import { effectiveOriginLimits, originLimitsAboveCeiling } from './origin-limits.js';
import type { WhipSessionLimits } from './whip-session.js';

const SERVER: WhipSessionLimits = { mediaTimeoutMs: 10_000, maxBitrateKbps: 8000, maxShortSidePx: 1080, ladder: DEFAULT_LIVE_LADDER_OPTIONS };

describe('a channel\'s origin limits', () => {
  it('are the server\'s when the channel sets none', () => {
    assert.deepEqual(effectiveOriginLimits(SERVER, null), SERVER);
    assert.deepEqual(effectiveOriginLimits(SERVER, undefined), SERVER);
    assert.deepEqual(effectiveOriginLimits(SERVER, {}), SERVER);
  });

  it('lower the server\'s, each on its own, and keep everything else', () => {
    const both = effectiveOriginLimits(SERVER, { max_bitrate_kbps: 2500, max_short_side_px: 720 });
    assert.equal(both.maxBitrateKbps, 2500);
    assert.equal(both.maxShortSidePx, 720);
    assert.equal(both.mediaTimeoutMs, SERVER.mediaTimeoutMs);
    assert.equal(both.ladder, SERVER.ladder);
    const bitrateOnly = effectiveOriginLimits(SERVER, { max_bitrate_kbps: 1200 });
    assert.deepEqual([bitrateOnly.maxBitrateKbps, bitrateOnly.maxShortSidePx], [1200, 1080]);
    const sizeOnly = effectiveOriginLimits(SERVER, { max_short_side_px: 480 });
    assert.deepEqual([sizeOnly.maxBitrateKbps, sizeOnly.maxShortSidePx], [8000, 480]);
  });

  it('never raise the server\'s (a record written before the server\'s limit was lowered)', () => {
    const raised = effectiveOriginLimits(SERVER, { max_bitrate_kbps: 50_000, max_short_side_px: 2160 });
    assert.deepEqual([raised.maxBitrateKbps, raised.maxShortSidePx], [8000, 1080]);
    const mixed = effectiveOriginLimits(SERVER, { max_bitrate_kbps: 50_000, max_short_side_px: 360 });
    assert.deepEqual([mixed.maxBitrateKbps, mixed.maxShortSidePx], [8000, 360]);
  });

  it('above the server\'s ceiling are refused with the field, the ceiling and its setting named', () => {
    const ceiling = { maxBitrateKbps: 8000, maxShortSidePx: 1080 };
    assert.equal(originLimitsAboveCeiling({ max_bitrate_kbps: 8000, max_short_side_px: 1080 }, ceiling), undefined, 'equal to the ceiling is fine');
    assert.equal(originLimitsAboveCeiling(null, ceiling), undefined);
    assert.equal(originLimitsAboveCeiling({}, ceiling), undefined);
    const bitrate = originLimitsAboveCeiling({ max_bitrate_kbps: 8001 }, ceiling) ?? '';
    assert.match(bitrate, /origin_limits\.max_bitrate_kbps: 8001 is above this server's maximum of 8000 \(ORIGIN_MAX_BITRATE_KBPS\)/);
    assert.match(bitrate, /can lower the origin limits, not raise them/);
    const both = originLimitsAboveCeiling({ max_bitrate_kbps: 9000, max_short_side_px: 2160 }, ceiling) ?? '';
    assert.match(both, /max_bitrate_kbps: 9000/);
    assert.match(both, /max_short_side_px: 2160 is above this server's maximum of 1080 \(ORIGIN_MAX_SHORT_SIDE_PX\)/);
  });
});
