import { liveMetadataSchema, type LiveMetadata } from '@live-upload/schema';
import type { BusMessage } from '../bus/index.js';
import type { Logger } from '../observability/index.js';

const decoder = new TextDecoder();

/**
 * The canonical record a `live.status.*` message carries, or undefined when it carries none.
 * Every consumer of LIVE_STATUS (VOD capture, the Twitch archive lookup, the Bluesky write-back,
 * the audience worker, the webhook fan-out) needs the same answer to a message that is not a
 * record: it will never become one, so it is terminated (not redelivered forever) and said once
 * in the log, with what the consumer leaves undone (`consequence`, e.g. "no VOD capture").
 */
export function liveStatusOf(message: BusMessage, logger: Logger, consequence: string): LiveMetadata | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(message.data));
  } catch (error) {
    return terminated(message, logger, consequence, error);
  }
  const parsed = liveMetadataSchema.safeParse(value);
  return parsed.success ? parsed.data : terminated(message, logger, consequence, parsed.error);
}

function terminated(message: BusMessage, logger: Logger, consequence: string, error: unknown): undefined {
  logger.warn({ err: error, subject: message.subject, seq: message.seq }, `malformed live status terminated; ${consequence}`);
  message.term();
  return undefined;
}
