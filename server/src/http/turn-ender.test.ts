import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { TurnEnder } from './turn-ender.js';

/** Just what TurnEnder touches of a response, recording the order of ends. */
function fakeResponse(log: string[], name: string, state: { destroyed?: boolean; writableEnded?: boolean } = {}): ServerResponse {
  return {
    destroyed: state.destroyed ?? false,
    writableEnded: state.writableEnded ?? false,
    end: (body?: string) => log.push(body === undefined ? name : `${name}:${body}`),
  } as unknown as ServerResponse;
}

describe('TurnEnder', () => {
  it('ends nothing during the turn, then every queued response in order once it is over', async () => {
    const ender = new TurnEnder();
    const log: string[] = [];
    ender.end(fakeResponse(log, 'a'));
    ender.end(fakeResponse(log, 'b'), 'challenge');
    await Promise.resolve();
    assert.deepEqual(log, [], 'not even after the microtasks of this turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['a', 'b:challenge']);
    ender.end(fakeResponse(log, 'c'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['a', 'b:challenge', 'c'], 'a later turn gets its own flush');
  });

  it('skips a response whose connection went away or that was ended meanwhile', async () => {
    const ender = new TurnEnder();
    const log: string[] = [];
    ender.end(fakeResponse(log, 'gone', { destroyed: true }));
    ender.end(fakeResponse(log, 'done', { writableEnded: true }));
    ender.end(fakeResponse(log, 'ok'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['ok']);
  });

  it('tells onEnded of each response it ended, after ending it, and of none it skipped', async () => {
    const log: string[] = [];
    const ender = new TurnEnder((response) => log.push(`ended ${(response as unknown as { name: string }).name}`));
    const named = (name: string, state?: { destroyed?: boolean }) => Object.assign(fakeResponse(log, name, state), { name });
    ender.end(named('a'));
    ender.end(named('gone', { destroyed: true }));
    ender.end(named('b'), 'body');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['a', 'ended a', 'b:body', 'ended b']);
  });

  it('answers real requests over keep-alive, each with its own status and body', async () => {
    const ender = new TurnEnder();
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/text' ? 200 : 204;
      if (req.url === '/text') ender.end(res, 'hello');
      else ender.end(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    try {
      const results = await Promise.all(['/text', '/empty', '/text', '/empty'].map(get));
      assert.deepEqual(results, [
        { status: 200, body: 'hello' },
        { status: 204, body: '' },
        { status: 200, body: 'hello' },
        { status: 204, body: '' },
      ]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
