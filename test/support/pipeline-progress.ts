import type { Metrics } from '../../server/src/observability/index.js';

/**
 * Raw provider events the pipeline has handled so far, whatever it made of them (applied,
 * unchanged, ignored, malformed): read from its own counter, so a test or a bench can wait
 * until everything it published was taken up.
 */
export async function pipelineEventsHandled(metrics: Metrics): Promise<number> {
  const { values } = await metrics.pipelineEvents.get();
  return values.reduce((sum, sample) => sum + sample.value, 0);
}
