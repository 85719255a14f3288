import { Counter, Gauge, type Registry } from 'prom-client';
import type { WhipOrigin } from './whip-origin.js';
import type { LadderPaceState } from './ladder-pace.js';

export const ORIGIN_SESSIONS_METRIC = 'live_upload_origin_sessions';
export const ORIGIN_LADDER_SHEDS_METRIC = 'live_upload_origin_ladder_sheds_total';

const PACES: readonly LadderPaceState[] = ['starting', 'judging', 'keeping-up', 'slow', 'behind'];

/**
 * The origin as an operator of a fleet sees it: `live_upload_origin_sessions{ladder}`, the WHIP
 * sessions this process terminates now by how their ladder keeps pace (`LadderPaceState`; `slow`
 * and `behind`: its ffmpeg is below real time, viewers fall further behind the publisher: this
 * replica is short of CPU),
 * and `live_upload_origin_ladder_sheds_total{when}`, ladders replaced by a lighter one for the
 * same reason, before going live or while live. One registration per registry.
 */
export function recordOriginMetrics(origin: WhipOrigin, registry: Registry): void {
  if (!registry.getSingleMetric(ORIGIN_SESSIONS_METRIC)) {
    new Gauge({
      name: ORIGIN_SESSIONS_METRIC,
      help: 'WHIP sessions this process terminates, by their live ladder pace: starting, judging, keeping_up, slow, behind (slow and behind: ffmpeg below real time)',
      labelNames: ['ladder'],
      registers: [registry],
      collect() {
        const counts = new Map<LadderPaceState, number>(PACES.map((pace) => [pace, 0]));
        for (const session of origin.localSessions.values()) counts.set(session.ladderPace, (counts.get(session.ladderPace) ?? 0) + 1);
        for (const [pace, count] of counts) this.set({ ladder: pace.replace('-', '_') }, count);
      },
    });
  }
  const sheds =
    (registry.getSingleMetric(ORIGIN_LADDER_SHEDS_METRIC) as Counter<'when'> | undefined) ??
    new Counter({
      name: ORIGIN_LADDER_SHEDS_METRIC,
      help: 'Live ladders replaced by a lighter one because their ffmpeg fell behind real time: when=before_live (a rung fewer or a faster preset) or live (the same rungs at a faster preset, viewers watching)',
      labelNames: ['when'],
      registers: [registry],
    });
  origin.onLadderShed((when) => sheds.inc({ when: when.replace('-', '_') }));
}
