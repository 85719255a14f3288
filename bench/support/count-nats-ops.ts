/**
 * Counts what a process says to NATS and hears back, per raw event published, to tell how many
 * JetStream operations a webhook costs (issue 26: on the three-node cluster every replicated
 * operation is Raft work for three nats-servers). A preload, not part of any bench's figures:
 *
 *   node --import tsx --import ./bench/support/count-nats-ops.ts bench/ingest.ts --bus=nats-cluster
 *
 * prints on exit (and on SIGUSR2) the messages nats.js published by kind (raw publishes, acks per
 * stream and consumer, pull requests, JetStream API calls, KV writes by bucket), the messages it
 * received by subject, and its socket writes, each also divided by the number of `live.raw.*`
 * publishes. It wraps nats.js's protocol handler and Node transport (`publish`, `processMsg`,
 * `send`), so it follows nats.js 2.x's internal layout; counts include setup and warm-up.
 */
import { createRequire } from 'node:module';

interface ProtocolHandlerPrototype {
  publish(this: unknown, subject: string, payload?: unknown, options?: unknown): unknown;
  processMsg(this: { subscriptions: { get(sid: number): { subject: string } | undefined } }, msg: { subject: Uint8Array; sid: number }, data: Uint8Array): unknown;
}

interface NodeTransportPrototype {
  send(this: unknown, frame: Uint8Array): unknown;
}

const require = createRequire(import.meta.url);
const protocolPrototype = (require('nats/lib/nats-base-client/protocol.js') as { ProtocolHandler: { prototype: ProtocolHandlerPrototype } }).ProtocolHandler.prototype;
const transportPrototype = (require('nats/lib/src/node_transport.js') as { NodeTransport: { prototype: NodeTransportPrototype } }).NodeTransport.prototype;

const published = new Map<string, number>();
const received = new Map<string, number>();
let socketWrites = 0;
let socketBytes = 0;
const latin1 = new TextDecoder('latin1');

function add(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** What an outgoing subject is: a raw publish, an ack of which consumer, a pull, an API call, a KV write. */
export function publishedKind(subject: string): string {
  const tokens = subject.split('.');
  if (subject.startsWith('$JS.ACK.')) return `ack ${tokens[2]}/${tokens[3]}`;
  if (subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.')) return `pull ${tokens[5]}/${tokens[6]}`;
  if (subject.startsWith('$JS.API.')) return `api ${tokens.slice(2, 4).join('.')}`;
  if (subject.startsWith('$KV.')) return `kv write ${tokens[1]}`;
  if (subject.startsWith('_INBOX.')) return 'reply';
  return `publish ${tokens.slice(0, 3).join('.')}`;
}

const originalPublish = protocolPrototype.publish;
protocolPrototype.publish = function (subject, payload, options) {
  add(published, publishedKind(subject));
  return originalPublish.call(this, subject, payload, options);
};

const originalProcessMsg = protocolPrototype.processMsg;
protocolPrototype.processMsg = function (msg, data) {
  const subject = latin1.decode(msg.subject);
  // Replies arrive on inboxes: name them by the subscription (one per publisher, KV request, consumer).
  add(received, subject.startsWith('_INBOX.') ? `on ${this.subscriptions.get(msg.sid)?.subject ?? 'an inbox'}` : subject.split('.').slice(0, 3).join('.'));
  return originalProcessMsg.call(this, msg, data);
};

const originalSend = transportPrototype.send;
transportPrototype.send = function (frame) {
  socketWrites++;
  socketBytes += frame.length;
  return originalSend.call(this, frame);
};

function report(when: string): void {
  let raw = 0;
  for (const [kind, count] of published) if (kind.startsWith('publish live.raw.')) raw += count;
  const per = (count: number) => (raw > 0 ? (count / raw).toFixed(3) : '-');
  const lines = [`nats ops (${when}), per raw publish (${raw}):`];
  for (const [kind, count] of [...published].sort((a, b) => b[1] - a[1])) lines.push(`  out ${kind}: ${count} (${per(count)})`);
  for (const [subject, count] of [...received].sort((a, b) => b[1] - a[1])) lines.push(`  in  ${subject}: ${count} (${per(count)})`);
  lines.push(`  socket writes: ${socketWrites} (${per(socketWrites)}), ${socketBytes} bytes (${raw > 0 ? Math.round(socketBytes / raw) : '-'} per raw publish)`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

process.on('SIGUSR2', () => report('now'));
process.on('exit', () => report('at exit'));
