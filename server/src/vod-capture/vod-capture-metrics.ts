import { Counter, Gauge, type Registry } from 'prom-client';
import type { VodCapture } from './vod-capture.js';

export const VOD_CAPTURE_EVENTS_METRIC = 'live_upload_vod_capture_events_total';
export const VOD_CAPTURE_FOLLOWING_METRIC = 'live_upload_vod_capture_following';

/**
 * The capture as an operator of a fleet sees it: `live_upload_vod_capture_events_total{event}`
 * (`following`: a broadcast's lease taken here; `handed_over`: given back or lost, the archive
 * left for another replica; `enqueued`: an archive ended and its job queued; `skipped_*`: a LIVE
 * record that started no capture, by reason) and `live_upload_vod_capture_following`, the
 * broadcasts this process follows now. One registration per registry.
 */
export function recordVodCaptureMetrics(capture: VodCapture, registry: Registry): void {
  const events =
    (registry.getSingleMetric(VOD_CAPTURE_EVENTS_METRIC) as Counter<'event'> | undefined) ??
    new Counter({
      name: VOD_CAPTURE_EVENTS_METRIC,
      help: 'VOD capture events of this process: following, handed_over, enqueued, skipped_policy_off, skipped_not_current, skipped_no_channel',
      labelNames: ['event'],
      registers: [registry],
    });
  if (!registry.getSingleMetric(VOD_CAPTURE_FOLLOWING_METRIC)) {
    new Gauge({
      name: VOD_CAPTURE_FOLLOWING_METRIC,
      help: 'Live broadcasts this process follows into replay archives now',
      registers: [registry],
      collect() {
        this.set(capture.following.length);
      },
    });
  }
  capture.on('following', () => events.inc({ event: 'following' }));
  capture.on('handed-over', () => events.inc({ event: 'handed_over' }));
  capture.on('enqueued', () => events.inc({ event: 'enqueued' }));
  capture.on('skipped', ({ reason }) => events.inc({ event: `skipped_${reason.replace(/-/g, '_')}` }));
}
