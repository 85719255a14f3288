import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referralSourceOf } from './audience.js';

describe('referralSourceOf', () => {
  const page = 'https://live.example';
  const cases: Array<[string | null | undefined, string]> = [
    [undefined, 'direct'],
    [null, 'direct'],
    ['', 'direct'],
    ['   ', 'direct'],
    ['not a url', 'direct'],
    ['javascript:alert(1)', 'direct'],
    ['data:text/html,hi', 'direct'],
    ['file:///etc/passwd', 'direct'],
    ['https://www.twitch.tv/acme_live?ref=x', 'twitch'],
    ['https://twitch.tv/', 'twitch'],
    ['https://m.youtube.com/watch?v=abc', 'youtube'],
    ['https://youtu.be/abc', 'youtube'],
    ['https://bsky.app/profile/acme.bsky.social/post/3k', 'bluesky'],
    ['https://mastodon.social/@acme/1234', 'mastodon'],
    ['https://mstdn.jp/@x', 'mastodon'],
    ['https://hachyderm.io/@x/1', 'mastodon'],
    ['https://www.google.com/search?q=my+secret', 'search'],
    ['https://www.google.co.uk/', 'search'],
    ['https://duckduckgo.com/?q=x', 'search'],
    ['https://www.bing.com/search?q=x', 'search'],
    ['https://blog.example.org/posts/42?user=alice#c', 'https://blog.example.org'],
    ['http://127.0.0.1:8080/private/path', 'http://127.0.0.1:8080'],
    ['https://live.example/c/acme/show', 'direct'],
    ['https://eviltwitch.tv/', 'https://eviltwitch.tv'],
    ['https://twitch.tv.evil.example/', 'https://twitch.tv.evil.example'],
    ['twitch', 'twitch'],
    ['direct', 'direct'],
    ['search', 'search'],
  ];
  for (const [referrer, expected] of cases) {
    it(`${JSON.stringify(referrer)} -> ${expected}`, () => {
      assert.equal(referralSourceOf(referrer, page), expected);
    });
  }

  it('never keeps a path, query or credentials', () => {
    const source = referralSourceOf('https://user:pw@forum.example:8443/t/alice?token=s3cret#x', page);
    assert.equal(source, 'https://forum.example:8443');
  });

  it('treats the page origin as direct only when it is given', () => {
    assert.equal(referralSourceOf('https://live.example/c/a/b', undefined), 'https://live.example');
    assert.equal(referralSourceOf('https://live.example/c/a/b', 'https://live.example/c/x/y'), 'direct');
  });
});
