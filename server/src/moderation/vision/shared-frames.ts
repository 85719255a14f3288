import type { ModerationCheckInput } from '../moderation-check.js';
import { sampleFrames, type FrameSamplingOptions, type SampledFrame } from './frame-sampler.js';

/** How the vision checks decode: everything but the rules' `sampling` and the duration, which come from the job. */
export type SharedFrameOptions = Omit<FrameSamplingOptions, 'sampling' | 'durationS'>;

/**
 * The job's sampled frames, decoded once by whichever vision check runs first and kept in the
 * job's `facts` for the others, so the nudity and face checks judge the same frames and the clip
 * is decoded once. At most `max_frames` small frames are held (24 of 224x398 RGB: ~6 MB), for
 * the length of one job. No frame at all is an error: a video the checks cannot see is not one
 * they passed.
 */
export function sharedFrames(input: ModerationCheckInput, options: SharedFrameOptions = {}): Promise<readonly SampledFrame[]> {
  input.facts.sampledFrames ??= collect(input, options);
  return input.facts.sampledFrames;
}

async function collect(input: ModerationCheckInput, options: SharedFrameOptions): Promise<readonly SampledFrame[]> {
  const frames: SampledFrame[] = [];
  const durationS = input.facts.probe?.durationS;
  const sampling = { ...options, sampling: input.rules.rules.sampling, ...(durationS === undefined ? {} : { durationS }), ...(input.signal ? { signal: input.signal } : {}) };
  for await (const frame of sampleFrames(input.path, sampling)) {
    frames.push(frame);
  }
  if (frames.length === 0) throw new Error('no video frame could be decoded');
  return frames;
}
