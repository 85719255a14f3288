/**
 * A minimal raw tus 1.0 client for the upload benchmark: one creation `POST` (`Upload-Length`),
 * then `PATCH`es of `chunkSize` bytes streamed from the file (`fs.createReadStream` with a byte
 * range, piped into `http.request` with `Content-Length`), in order, over ONE keep-alive socket.
 * No retries, no resume, no checksum extension: the same bytes-on-the-wire work for whichever
 * server is measured. Every answer is checked (201 + Location, then 204 with the expected
 * `Upload-Offset`), so a server that drops bytes fails the run instead of looking fast.
 */
import { createReadStream } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { wallNow } from '../support/stats.js';
import type { TusUploadRun, TusUploadTiming } from './protocol.js';

const TUS_VERSION = '1.0.0';
/** Read-stream buffer: large enough that the file side never paces the socket. */
const READ_CHUNK_BYTES = 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

function readAnswer(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, 500) }));
    res.once('error', reject);
  });
}

function send(url: URL, method: string, agent: Agent, headers: Record<string, string>, body?: { path: string; start: number; length: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { 'Tus-Resumable': TUS_VERSION, ...headers, 'Content-Length': String(body?.length ?? 0) } }, (res) => {
      readAnswer(res).then(resolve, reject);
    });
    req.once('error', reject);
    if (!body) {
      req.end();
      return;
    }
    // `end` is inclusive. The pipeline ends the request when the range has been read.
    pipeline(createReadStream(body.path, { start: body.start, end: body.start + body.length - 1, highWaterMark: READ_CHUNK_BYTES }), req).catch((error: unknown) => {
      req.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}

/** Uploads `run.path` whole; throws on any unexpected answer. */
export async function tusUpload(run: Omit<TusUploadRun, 'type' | 'id'>): Promise<TusUploadTiming> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const created = await send(new URL(run.endpoint), 'POST', agent, { ...run.headers, 'Upload-Length': String(run.size) });
    const createMs = performance.now() - startedAt;
    const location = created.headers.location;
    if (created.status !== 201 || !location) throw new Error(`tus creation answered ${created.status}: ${created.body.trim()}`);
    const uploadUrl = new URL(location, run.endpoint);
    const chunkSize = Math.max(1, Math.min(run.chunkSize, run.size));
    let offset = 0;
    let patches = 0;
    while (offset < run.size) {
      const length = Math.min(chunkSize, run.size - offset);
      const answer = await send(
        uploadUrl,
        'PATCH',
        agent,
        { ...run.headers, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) },
        { path: run.path, start: offset, length },
      );
      patches += 1;
      const reported = Number(answer.headers['upload-offset']);
      if (answer.status !== 204 || reported !== offset + length) {
        throw new Error(`tus PATCH at ${offset} answered ${answer.status} (Upload-Offset ${String(answer.headers['upload-offset'])}, expected ${offset + length}): ${answer.body.trim()}`);
      }
      offset += length;
    }
    const completedAt = wallNow();
    const totalMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    return { location: uploadUrl.href, totalMs, createMs, patches, completedAt, clientCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    agent.destroy();
  }
}
