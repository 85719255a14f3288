import { NatsError } from 'nats';

/** JetStream API error codes (`api_error.err_code`) the NATS bus branches on. */
export const JETSTREAM_ERROR_CODES = {
  consumerNotFound: 10014,
  streamNotFound: 10059,
  /** A direct get of a sequence that holds no message (removed by retention or never stored). */
  noMessageFound: 10037,
  /** Expected-last-subject-sequence mismatch: a KV create/update lost the race. */
  wrongLastSequence: 10071,
  /** A stream of that name exists with another configuration. */
  streamNameInUse: 10058,
  /** A stream with more than one replica asked of a server that is not clustered. */
  replicasNotSupported: 10074,
  /** The cluster has fewer JetStream servers (with room, in the asked placement) than replicas asked. */
  noSuitablePeers: 10005,
  /** The JetStream servers lack the storage or memory a stream asks for. */
  insufficientResources: 10023,
} as const;

/** The JetStream API error code carried by `err`, if it is one. */
export function jetStreamErrorCode(err: unknown): number | undefined {
  return err instanceof NatsError ? err.api_error?.err_code : undefined;
}

/** A short description of any thrown value, for logs and wrapped error messages. */
export function describeError(err: unknown): string {
  if (err instanceof NatsError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
