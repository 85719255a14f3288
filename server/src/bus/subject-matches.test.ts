import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { subjectMatches } from './bus.js';

/** The rule as NATS states it, written the obvious way: the in-place walk must agree with it everywhere. */
function reference(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== '*' && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}

describe('subjectMatches', () => {
  it('follows the NATS wildcard rules', () => {
    const cases: Array<[string, string, boolean]> = [
      ['live.raw.>', 'live.raw.twitch', true],
      ['live.raw.>', 'live.raw', false],
      ['live.raw.>', 'live.raw.a.b.c', true],
      ['live.status.*.*', 'live.status.acme.show', true],
      ['live.status.*.*', 'live.status.acme', false],
      ['live.status.*.*', 'live.status.acme.show.x', false],
      ['live.status.acme.show', 'live.status.acme.show', true],
      ['live.status.acme.show', 'live.status.acme.shows', false],
      ['live.status.acme.shows', 'live.status.acme.show', false],
      ['>', 'anything.at.all', true],
      ['*', 'one', true],
      ['*', 'one.two', false],
      ['a.*.c', 'a.b.c', true],
      ['a.*.c', 'a.b.d', false],
      ['a', 'b', false],
      ['a.b', 'a', false],
      ['a', 'a.b', false],
    ];
    for (const [pattern, subject, expected] of cases) assert.equal(subjectMatches(pattern, subject), expected, `${pattern} ~ ${subject}`);
  });

  it('agrees with the split-based rule on every pattern/subject pair over a small alphabet', () => {
    const tokens = ['a', 'b', 'ab', '*', '>'];
    const build = (depth: number, wildcards: boolean): string[] => {
      if (depth === 0) return [''];
      const out: string[] = [];
      for (const rest of build(depth - 1, wildcards)) {
        for (const token of tokens) {
          if (!wildcards && (token === '*' || token === '>')) continue;
          out.push(rest === '' ? token : `${rest}.${token}`);
        }
      }
      return out;
    };
    const patterns = [1, 2, 3].flatMap((depth) => build(depth, true));
    const subjects = [1, 2, 3, 4].flatMap((depth) => build(depth, false));
    let checked = 0;
    for (const pattern of patterns) {
      for (const subject of subjects) {
        assert.equal(subjectMatches(pattern, subject), reference(pattern, subject), `${pattern} ~ ${subject}`);
        checked++;
      }
    }
    assert.ok(checked > 10_000);
  });
});
