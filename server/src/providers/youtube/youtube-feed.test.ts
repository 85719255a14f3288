import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deletedVideoFeed, videoFeed } from '../../../../test/fakes/youtube/atom-feed.js';
import { parseSafeXml } from './safe-xml.js';
import { YOUTUBE_FEED_MAX_BYTES, parseYouTubeFeed } from './youtube-feed.js';

const CHANNEL = 'UCuAXFkgsw1L7xaCfnd5JJOw';
const VIDEO = 'dQw4w9WgXcQ';
const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseYouTubeFeed', () => {
  it('reads video id, channel id, title and updated time of a documented notification', () => {
    const updatedAtMs = Date.UTC(2026, 2, 1, 18, 0, 0, 552);
    const result = parseYouTubeFeed(bytes(videoFeed({ videoId: VIDEO, channelId: CHANNEL, title: 'Tom & Jerry <live>', updatedAtMs })));
    assert.deepEqual(result, { ok: true, items: [{ kind: 'entry', videoId: VIDEO, channelId: CHANNEL, title: 'Tom & Jerry <live>', updatedMs: updatedAtMs }] });
  });

  it('reads a deleted entry: video id from ref, channel from at:by, time from when', () => {
    const deletedAtMs = Date.UTC(2026, 2, 1, 19, 5, 24, 552);
    const result = parseYouTubeFeed(bytes(deletedVideoFeed({ videoId: VIDEO, channelId: CHANNEL, deletedAtMs })));
    assert.deepEqual(result, { ok: true, items: [{ kind: 'deleted', videoId: VIDEO, channelId: CHANNEL, deletedAtMs }] });
  });

  it('matches namespaces by URI, whatever the prefix', () => {
    const feed = `<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:video="http://www.youtube.com/xml/schemas/2015">
      <a:entry><video:videoId>${VIDEO}</video:videoId><video:channelId>${CHANNEL}</video:channelId><a:title><![CDATA[x < y]]></a:title></a:entry></a:feed>`;
    const result = parseYouTubeFeed(bytes(feed));
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.items[0], { kind: 'entry', videoId: VIDEO, channelId: CHANNEL, title: 'x < y', updatedMs: null });
  });

  it('skips entries whose yt elements are in another namespace or unprefixed', () => {
    const wrongYt = videoFeed({ videoId: VIDEO, channelId: CHANNEL }).replace('http://www.youtube.com/xml/schemas/2015', 'http://evil.example/yt');
    assert.deepEqual(parseYouTubeFeed(bytes(wrongYt)), { ok: true, items: [] });
    const unprefixed = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><videoId>${VIDEO}</videoId><channelId>${CHANNEL}</channelId></entry></feed>`;
    assert.deepEqual(parseYouTubeFeed(bytes(unprefixed)), { ok: true, items: [] });
    const wrongTombstone = deletedVideoFeed({ videoId: VIDEO, channelId: CHANNEL }).replace('http://purl.org/atompub/tombstones/1.0', 'urn:other');
    assert.deepEqual(parseYouTubeFeed(bytes(wrongTombstone)), { ok: true, items: [] });
  });

  it('refuses a root that is not an Atom feed', () => {
    const rss = `<rss version="2.0"><channel><item/></channel></rss>`;
    assert.deepEqual(parseYouTubeFeed(bytes(rss)), { ok: false, reason: 'not_atom' });
    const wrongNs = videoFeed({ videoId: VIDEO, channelId: CHANNEL }).replace('xmlns="http://www.w3.org/2005/Atom"', 'xmlns="http://www.w3.org/2005/Atomic"');
    assert.deepEqual(parseYouTubeFeed(bytes(wrongNs)), { ok: false, reason: 'not_atom' });
  });

  it('skips entries with malformed ids (wrong length, injected characters)', () => {
    for (const [videoId, channelId] of [
      ['dQw4w9WgXc', CHANNEL],
      ['dQw4w9WgXcQQ', CHANNEL],
      ['dQw4w9Wg/cQ', CHANNEL],
      [VIDEO, 'UCuAXFkgsw1L7xaCfnd5JJO'],
      [VIDEO, 'ABuAXFkgsw1L7xaCfnd5JJOw'],
    ] as const) {
      const result = parseYouTubeFeed(bytes(videoFeed({ videoId, channelId })));
      assert.deepEqual(result, { ok: true, items: [] }, `${videoId} ${channelId}`);
    }
  });

  it('refuses DOCTYPE and entity declarations: no XXE, no entity expansion', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
      <feed xmlns="http://www.w3.org/2005/Atom" xmlns:yt="http://www.youtube.com/xml/schemas/2015"><entry><yt:videoId>${VIDEO}</yt:videoId><yt:channelId>${CHANNEL}</yt:channelId><title>&xxe;</title></entry></feed>`;
    assert.deepEqual(parseYouTubeFeed(bytes(xxe)), { ok: false, reason: 'not_xml' });
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>`;
    assert.deepEqual(parseYouTubeFeed(bytes(laughs)), { ok: false, reason: 'not_xml' });
    const undeclared = `<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol;</title></feed>`;
    assert.deepEqual(parseYouTubeFeed(bytes(undeclared)), { ok: false, reason: 'not_xml' });
  });

  it('refuses oversize bodies before parsing, and non-UTF-8 bytes', () => {
    const padding = `<!--${'x'.repeat(YOUTUBE_FEED_MAX_BYTES)}-->`;
    assert.deepEqual(parseYouTubeFeed(bytes(videoFeed({ videoId: VIDEO, channelId: CHANNEL }) + padding)), { ok: false, reason: 'too_large' });
    assert.deepEqual(parseYouTubeFeed(new Uint8Array([0x3c, 0x66, 0xff, 0xfe])), { ok: false, reason: 'not_utf8' });
  });

  it('refuses malformed XML without throwing', () => {
    for (const text of [
      '',
      'not xml',
      '<feed xmlns="http://www.w3.org/2005/Atom">',
      '<feed xmlns="http://www.w3.org/2005/Atom"></entry>',
      '<feed xmlns="http://www.w3.org/2005/Atom"/><feed xmlns="http://www.w3.org/2005/Atom"/>',
      '<feed xmlns="http://www.w3.org/2005/Atom" a="1" a="2"/>',
      '<feed xmlns="http://www.w3.org/2005/Atom" a=1/>',
      '<x:feed/>',
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>&#0;</title></feed>',
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>&#x110000;</title></feed>',
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>&amp</title></feed>',
      '<feed xmlns="http://www.w3.org/2005/Atom"><![CDATA[x',
      `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`,
    ]) {
      const result = parseYouTubeFeed(bytes(text));
      assert.equal(result.ok, false, text.slice(0, 60));
    }
  });

  it('caps depth and element count', () => {
    assert.throws(() => parseSafeXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`), /deeper/);
    assert.throws(() => parseSafeXml(`<a>${'<b/>'.repeat(6000)}</a>`), /more than/);
    assert.equal(parseSafeXml(`${'<a>'.repeat(30)}${'</a>'.repeat(30)}`).local, 'a');
  });

  it('decodes the predefined entities and character references only', () => {
    const root = parseSafeXml(`<t a="&quot;&#x41;&#66;">&lt;&gt;&amp;&apos;&quot;&#233;&#x1F389;</t>`);
    assert.equal(root.text, `<>&'"é🎉`);
    assert.equal(root.attributes[0]?.value, '"AB');
    assert.throws(() => parseSafeXml('<t>&constructor;</t>'), /undefined entity/);
    assert.throws(() => parseSafeXml('<t>&__proto__;</t>'), /undefined entity/);
  });
});
