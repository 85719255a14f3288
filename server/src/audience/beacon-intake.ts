import { parseChannelRef } from '@live-upload/schema';
import { BusUnavailableError, SUBJECTS, encodeJson, type Bus } from '../bus/index.js';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import { reduceBeacon, type BeaconBody, type BeaconContext, type BeaconProblem } from './beacon.js';

const PROBLEMS: Record<BeaconProblem, string> = {
  channel: 'channel: must be {publisher}/{slug}',
  canonical_id: 'canonical_id: must be stream:{publisher}:{slug}:{ulid}',
  foreign_canonical_id: 'canonical_id: is not a broadcast of this channel',
  future_canonical_id: 'canonical_id: names a broadcast that has not started',
};

/**
 * Takes a validated beacon body from the route: reduces it (`reduceBeacon`), refuses a channel
 * that does not exist (404), and publishes it to the beacon work queue. A clip or upload beacon
 * sent twice is one message (its msg id); heartbeats need no id, counting a session twice in a
 * minute changes nothing.
 */
export class BeaconIntake {
  constructor(
    private readonly bus: Bus,
    private readonly channels: ChannelRegistry,
  ) {}

  async accept(body: BeaconBody, context: BeaconContext): Promise<void> {
    const reduced = reduceBeacon(body, context);
    if (!reduced.ok) throw new AppError('invalid_body', PROBLEMS[reduced.problem]);
    const { beacon } = reduced;
    const ref = parseChannelRef(beacon.channel)!;
    if (!(await this.channels.get(ref))) throw new AppError('not_found', `no channel ${beacon.channel}`);
    const msgId = beacon.event === 'clip' || beacon.event === 'upload' ? `${beacon.canonical_id}:${beacon.session}:${beacon.event}:${beacon.n}` : undefined;
    try {
      await this.bus.publish(SUBJECTS.audienceBeacons(ref), encodeJson(beacon), msgId ? { msgId } : {});
    } catch (error) {
      if (error instanceof BusUnavailableError) throw new AppError('bus_unavailable', 'beacons cannot be taken right now; retry later', { cause: error, headers: { 'Retry-After': '5' } });
      throw error;
    }
  }
}
