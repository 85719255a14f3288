import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { createLogger } from '../../observability/index.js';
import { isClientHangUp, lateErrorLog } from './late-error-log.js';

/** A real pino logger writing JSON lines into an array. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

const withCode = (code: string) => Object.assign(new Error(`write ${code}`), { code });

it('a client hang-up mid-response is a debug line in the JSON log, anything else an error with its stack', () => {
  const { lines, logger } = recordingLogger();
  const listen = lateErrorLog(logger);
  const ctx = { method: 'GET', path: '/media/x/video.mp4', state: { requestId: 'req-1' } } as unknown as Parameters<typeof listen>[1];
  listen(withCode('ECONNRESET'), ctx);
  listen(new Error('disk on fire'), ctx);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!['level'], 20, 'debug');
  assert.equal(lines[0]!['code'], 'ECONNRESET');
  assert.equal(lines[0]!['request_id'], 'req-1');
  assert.equal(lines[1]!['level'], 50, 'error');
  assert.equal(lines[1]!['path'], '/media/x/video.mp4');
  assert.match(String((lines[1]!['err'] as { stack?: string }).stack), /disk on fire/);
});

it('knows the hang-ups: resets, broken pipes, premature closes, aborted requests; not other errors or non-errors', () => {
  for (const code of ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']) assert.ok(isClientHangUp(withCode(code)), code);
  assert.ok(isClientHangUp(new Error('aborted')));
  assert.ok(!isClientHangUp(withCode('ENOSPC')));
  assert.ok(!isClientHangUp('ECONNRESET'));
  assert.ok(!isClientHangUp(undefined));
});
