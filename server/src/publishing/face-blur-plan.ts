/**
 * Where and when to blur faces in a published rendition, from the faces check's sampled frames.
 *
 * The check sees a face only on the frames it sampled (a few per second at most); the video
 * has every frame in between. This planner turns the samples into regions over time that
 * never leave a face unblurred between two samples:
 *
 * 1. **Tracking.** Boxes of consecutive samples are matched greedily, closest first: two boxes
 *    are the same face when their centres are at most `matchDistance` (1.5) face sizes apart
 *    (distance measured in units of the boxes' mean width and height, so it does not depend
 *    on the frame's aspect) and neither is more than `maxSizeRatio` times the other. A face
 *    missed on one sample simply ends its track and starts a new one: the holds below cover
 *    the gap. A face that moved farther than that also ends one track and starts another;
 *    a "bridge" region then moves from the ended track's last box to the started one's first
 *    between the two samples (see `bridges`), so its path is covered too.
 * 2. **Between two samples that both see a face**, its box moves and resizes linearly.
 * 3. **Around a track**, the first box is held back to the previous sample (where the face was
 *    absent, or the clip's start) and the last one forward to the next sample (or the clip's
 *    end), plus `timeMarginS`: when in doubt, blur. A moving face also gets a region that
 *    carries on at its velocity over those gaps (`extrapolations`: the face that left the
 *    frame, or kept walking after the last sample), unless a bridge already accounts for it.
 * 4. **Padding**: each box grows by `paddingShare` of its size on every side (detectors box the
 *    face tightly; hair, ears and chin identify too), and is at least `minRegionSize`.
 * 5. **Lanes**: ffmpeg's crop cannot change size mid-stream, so each region is realised by a
 *    "lane" (one crop, blur and overlay chain) with a fixed size: the largest padded box it
 *    ever carries; its centre follows the track and it is shifted inside the frame at the
 *    edges (which still covers the box's visible part). Tracks that never overlap in time
 *    share a lane (interval colouring; the free lane of the most similar size is reused).
 * 6. **Cap**: at most `maxRegions` lanes. A track that finds every lane busy (more faces on
 *    screen at once than the cap) makes the **whole frame** blurred for that track's span: a
 *    crowd is blurred entirely rather than partly.
 */

/** A face as the faces check records it: normalised to the frame (0..1), top-left origin. */
export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly score?: number;
}

/** One sampled frame that showed at least one face, at `t` seconds into the clip. */
export interface FaceFrame {
  readonly t: number;
  readonly boxes: readonly FaceBox[];
}

/** What the faces check saw: the frames with faces, and every time it sampled (with or without a face). */
export interface FaceSamples {
  readonly frames: readonly FaceFrame[];
  readonly frameTimes: readonly number[];
}

export interface FaceBlurPlanOptions {
  /** Added on each side of a box, as a share of the box's own width (left/right) and height (top/bottom). */
  readonly paddingShare: number;
  /** Smallest region side, as a share of the frame's side. */
  readonly minRegionSize: number;
  /** Blurred regions (filter chains) at most; more faces at once blur the whole frame. */
  readonly maxRegions: number;
  /** Seconds added before and after each track's held span (sample times are rounded to frames). */
  readonly timeMarginS: number;
  /** Same face on two consecutive samples: centres at most this many face sizes apart. */
  readonly matchDistance: number;
  /** Same face: neither box wider or taller than this times the other. */
  readonly maxSizeRatio: number;
}

export const FACE_BLUR_DEFAULTS: FaceBlurPlanOptions = {
  paddingShare: 0.25,
  minRegionSize: 0.04,
  maxRegions: 8,
  timeMarginS: 0.1,
  matchDistance: 1.5,
  maxSizeRatio: 2,
};

/**
 * A lane's centre moving linearly from (cx0, cy0) at `fromS` to (cx1, cy1) at `toS` (normalised).
 * `fromS` may be -Infinity (from the clip's start) and `toS` Infinity (to its end).
 */
export interface BlurSegment {
  readonly fromS: number;
  readonly toS: number;
  readonly cx0: number;
  readonly cy0: number;
  readonly cx1: number;
  readonly cy1: number;
}

/** One tracked face's time in a lane: `segments` partition [fromS, toS] in time order. */
export interface BlurSpan {
  readonly fromS: number;
  readonly toS: number;
  readonly segments: readonly BlurSegment[];
}

/** One fixed-size blurred region (one filter chain); its spans never overlap in time (toS < next fromS). */
export interface BlurLane {
  /** Region size, normalised (at most 1). */
  readonly w: number;
  readonly h: number;
  readonly spans: readonly BlurSpan[];
}

/** A time span (seconds, bounds inclusive) in which the whole frame is blurred. */
export interface WholeFrameSpan {
  readonly fromS: number;
  readonly toS: number;
}

export interface FaceBlurPlan {
  readonly lanes: readonly BlurLane[];
  readonly wholeFrame: readonly WholeFrameSpan[];
}

/** A blurred rectangle at one instant, normalised and inside the frame. */
export interface BlurRect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface TrackKey {
  readonly t: number;
  readonly box: FaceBox;
}

interface Track {
  readonly keys: TrackKey[];
  /** The sample before the first key (the face was absent there), or -Infinity. */
  readonly previousSampleS: number;
  /** The sample after the last key, or Infinity; set when the track ends. */
  nextSampleS: number;
  /** The other end of a bridge into its first key / out of its last key (see `bridges`). */
  bridgedFrom?: TrackKey;
  bridgedTo?: TrackKey;
}

/** Plans the face blur of a clip; an empty plan when the check saw no face. Pure. */
export function planFaceBlur(samples: FaceSamples, overrides: Partial<FaceBlurPlanOptions> = {}): FaceBlurPlan {
  const options = { ...FACE_BLUR_DEFAULTS, ...overrides };
  const tracks = trackFaces(samples, options);
  return assignLanes(
    tracks.map((track) => spanOf(track, options)),
    options,
  );
}

/** What the plan blurs at `t` seconds: the rectangles the filter draws (whole frame as {0,0,1,1}). */
export function blurRectsAt(plan: FaceBlurPlan, t: number): BlurRect[] {
  if (plan.wholeFrame.some((span) => span.fromS <= t && t <= span.toS)) return [{ x: 0, y: 0, w: 1, h: 1 }];
  const rects: BlurRect[] = [];
  for (const lane of plan.lanes) {
    const span = lane.spans.find((candidate) => candidate.fromS <= t && t <= candidate.toS);
    if (!span) continue;
    const segment = span.segments.find((candidate, index) => candidate.fromS <= t && (t < candidate.toS || index === span.segments.length - 1)) ?? span.segments[0];
    if (!segment) continue;
    const { cx, cy } = centreAt(segment, t);
    rects.push({ x: placeInFrame(cx, lane.w), y: placeInFrame(cy, lane.h), w: lane.w, h: lane.h });
  }
  return rects;
}

/** A segment's centre at `t` (held outside its bounds, constant when a bound is infinite). */
export function centreAt(segment: BlurSegment, t: number): { cx: number; cy: number } {
  const length = segment.toS - segment.fromS;
  if (!Number.isFinite(length) || length <= 0) return { cx: segment.cx0, cy: segment.cy0 };
  const share = Math.min(1, Math.max(0, (t - segment.fromS) / length));
  return { cx: segment.cx0 + (segment.cx1 - segment.cx0) * share, cy: segment.cy0 + (segment.cy1 - segment.cy0) * share };
}

/** The left (or top) edge of a region of `size` centred at `centre`, shifted to lie inside 0..1. */
export function placeInFrame(centre: number, size: number): number {
  return Math.min(Math.max(centre - size / 2, 0), Math.max(0, 1 - size));
}

function trackFaces(samples: FaceSamples, options: FaceBlurPlanOptions): Track[] {
  const boxesAt = new Map<number, FaceBox[]>();
  for (const frame of samples.frames) {
    const boxes = frame.boxes.filter((box) => box.w > 0 && box.h > 0);
    if (boxes.length > 0) boxesAt.set(frame.t, [...(boxesAt.get(frame.t) ?? []), ...boxes]);
  }
  const times = [...new Set([...samples.frameTimes, ...boxesAt.keys()])].filter(Number.isFinite).sort((a, b) => a - b);

  const tracks: Track[] = [];
  let active: Track[] = [];
  let previousS = -Infinity;
  for (const t of times) {
    const boxes = boxesAt.get(t) ?? [];
    const pairs: Array<{ track: Track; box: FaceBox; distance: number }> = [];
    for (const track of active) {
      const last = track.keys[track.keys.length - 1]?.box;
      if (!last) continue;
      for (const box of boxes) {
        if (!similarSize(last, box, options.maxSizeRatio)) continue;
        const distance = centreDistance(last, box);
        if (distance <= options.matchDistance) pairs.push({ track, box, distance });
      }
    }
    pairs.sort((a, b) => a.distance - b.distance);
    const continued = new Set<Track>();
    const placed = new Set<FaceBox>();
    for (const { track, box } of pairs) {
      if (continued.has(track) || placed.has(box)) continue;
      track.keys.push({ t, box });
      continued.add(track);
      placed.add(box);
    }
    const ended = active.filter((track) => !continued.has(track));
    for (const track of ended) track.nextSampleS = t;
    const started = boxes
      .filter((box) => !placed.has(box))
      .map((box): Track => ({ keys: [{ t, box }], previousSampleS: previousS, nextSampleS: Infinity }));
    tracks.push(...started, ...bridges(ended, started, previousS, t, options));
    active = [...continued, ...started];
    previousS = t;
  }
  const gaps = times.slice(1).map((t, index) => t - (times[index] ?? t));
  const longestGapS = gaps.length > 0 ? Math.max(...gaps) : 2;
  const seen = tracks.filter((track) => !track.bridgedFrom || !track.bridgedTo);
  return [...tracks, ...seen.flatMap((track) => extrapolations(track, longestGapS, options))];
}

/**
 * Where a moving face may have gone where no sample looked: after it was last seen (until the
 * next sample, or for the longest sampling gap after the last one) and before it was first
 * seen, when no bridge accounts for it. The track's held box covers a face that stopped; this
 * covers one that kept moving as it did between its last (first) two samples. None for a face
 * that would stay inside its held box's padding, nor before the clip's start.
 */
function extrapolations(track: Track, longestGapS: number, options: FaceBlurPlanOptions): Track[] {
  // A face's velocity comes from its own last (first) two keys, or through the bridge it came from (went to).
  const keys = track.keys;
  const made: Track[] = [];
  const [first, second] = [keys[0], keys[1] ?? track.bridgedTo];
  const [beforeLast, last] = [keys[keys.length - 2] ?? track.bridgedFrom, keys[keys.length - 1]];
  const beyondPadding = (held: FaceBox, away: FaceBox) => Math.abs(away.x - held.x) > options.paddingShare * held.w || Math.abs(away.y - held.y) > options.paddingShare * held.h;
  if (!track.bridgedTo && beforeLast && last) {
    const untilS = Number.isFinite(track.nextSampleS) ? track.nextSampleS : last.t + longestGapS;
    const away = moved(beforeLast, last, untilS);
    if (beyondPadding(last.box, away)) made.push({ keys: [last, { t: untilS, box: away }], previousSampleS: last.t, nextSampleS: untilS });
  }
  if (!track.bridgedFrom && first && second) {
    const fromS = Number.isFinite(track.previousSampleS) ? track.previousSampleS : Math.max(0, first.t - longestGapS);
    const away = moved(second, first, fromS);
    if (fromS < first.t && beyondPadding(first.box, away)) made.push({ keys: [{ t: fromS, box: away }, first], previousSampleS: fromS, nextSampleS: first.t });
  }
  return made;
}

/** `to`'s box at `atS`, its centre carried on at the velocity it had from `from`; its size kept. */
function moved(from: TrackKey, to: TrackKey, atS: number): FaceBox {
  const span = to.t - from.t;
  if (span === 0) return to.box;
  const share = (atS - to.t) / span;
  const dx = (to.box.x + to.box.w / 2 - (from.box.x + from.box.w / 2)) * share;
  const dy = (to.box.y + to.box.h / 2 - (from.box.y + from.box.h / 2)) * share;
  return { x: to.box.x + dx, y: to.box.y + dy, w: to.box.w, h: to.box.h };
}

/**
 * A face that moved farther between two samples than `matchDistance` ends one track and starts
 * another; each is held in place, so the path between them would stay unblurred. A bridge
 * covers that path: each ended track is paired (closest first, sizes within `maxSizeRatio`) with
 * a track started on the next sample, and a region moves from the one to the other in between.
 * When they were in fact two faces, a strip of background is blurred for one sample gap: the
 * safe mistake.
 */
function bridges(ended: readonly Track[], started: readonly Track[], fromS: number, toS: number, options: FaceBlurPlanOptions): Track[] {
  const pairs: Array<{ track: Track; next: Track; from: FaceBox; to: FaceBox; distance: number }> = [];
  for (const track of ended) {
    const from = track.keys[track.keys.length - 1]?.box;
    for (const next of started) {
      const to = next.keys[0]?.box;
      if (from && to && similarSize(from, to, options.maxSizeRatio)) pairs.push({ track, next, from, to, distance: centreDistance(from, to) });
    }
  }
  pairs.sort((a, b) => a.distance - b.distance);
  const made: Track[] = [];
  for (const { track, next, from, to } of pairs) {
    if (track.bridgedTo || next.bridgedFrom) continue;
    track.bridgedTo = { t: toS, box: to };
    next.bridgedFrom = { t: fromS, box: from };
    made.push({ keys: [{ t: fromS, box: from }, { t: toS, box: to }], previousSampleS: fromS, nextSampleS: toS });
  }
  return made;
}

/** Centre distance in units of the two boxes' mean size (1: moved by its own width or height). */
function centreDistance(a: FaceBox, b: FaceBox): number {
  const dx = (a.x + a.w / 2 - (b.x + b.w / 2)) / ((a.w + b.w) / 2);
  const dy = (a.y + a.h / 2 - (b.y + b.h / 2)) / ((a.h + b.h) / 2);
  return Math.hypot(dx, dy);
}

function similarSize(a: FaceBox, b: FaceBox, maxRatio: number): boolean {
  const ratio = (p: number, q: number) => Math.max(p, q) / Math.min(p, q);
  return ratio(a.w, b.w) <= maxRatio && ratio(a.h, b.h) <= maxRatio;
}

interface PlannedSpan extends BlurSpan {
  /** The largest padded box of the span (at most 1 on each side). */
  readonly w: number;
  readonly h: number;
}

function spanOf(track: Track, options: FaceBlurPlanOptions): PlannedSpan {
  const keys = track.keys.map(({ t, box }) => ({ t, ...padded(box, options) }));
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (!first || !last) throw new Error('a track has at least one key');
  const fromS = track.previousSampleS - options.timeMarginS;
  const toS = track.nextSampleS + options.timeMarginS;
  const hold = (key: typeof first, from: number, to: number): BlurSegment => ({ fromS: from, toS: to, cx0: key.cx, cy0: key.cy, cx1: key.cx, cy1: key.cy });
  const segments: BlurSegment[] = [hold(first, fromS, first.t)];
  for (let index = 1; index < keys.length; index++) {
    const from = keys[index - 1];
    const to = keys[index];
    if (!from || !to) continue;
    segments.push({ fromS: from.t, toS: to.t, cx0: from.cx, cy0: from.cy, cx1: to.cx, cy1: to.cy });
  }
  segments.push(hold(last, last.t, toS));
  return {
    fromS,
    toS,
    segments,
    w: Math.min(1, Math.max(...keys.map((key) => key.w))),
    h: Math.min(1, Math.max(...keys.map((key) => key.h))),
  };
}

/** A box grown by the padding (and to the minimum size) around its centre; not clamped: lanes shift into the frame. */
function padded(box: FaceBox, options: FaceBlurPlanOptions): { cx: number; cy: number; w: number; h: number } {
  return {
    cx: box.x + box.w / 2,
    cy: box.y + box.h / 2,
    w: Math.max(options.minRegionSize, box.w * (1 + 2 * options.paddingShare)),
    h: Math.max(options.minRegionSize, box.h * (1 + 2 * options.paddingShare)),
  };
}

interface LaneUnderConstruction {
  w: number;
  h: number;
  readonly spans: BlurSpan[];
  lastToS: number;
}

function assignLanes(spans: readonly PlannedSpan[], options: FaceBlurPlanOptions): FaceBlurPlan {
  const lanes: LaneUnderConstruction[] = [];
  const wholeFrame: WholeFrameSpan[] = [];
  const sizeMismatch = (lane: LaneUnderConstruction, span: PlannedSpan) => Math.max(lane.w / span.w, span.w / lane.w, lane.h / span.h, span.h / lane.h);
  for (const span of [...spans].sort((a, b) => a.fromS - b.fromS || a.toS - b.toS)) {
    const free = lanes.filter((lane) => lane.lastToS < span.fromS).sort((a, b) => sizeMismatch(a, span) - sizeMismatch(b, span));
    let lane = free[0];
    const wantsOwnLane = !lane || sizeMismatch(lane, span) > options.maxSizeRatio;
    if (wantsOwnLane && lanes.length < options.maxRegions) {
      lane = { w: span.w, h: span.h, spans: [], lastToS: -Infinity };
      lanes.push(lane);
    }
    if (!lane) {
      wholeFrame.push({ fromS: span.fromS, toS: span.toS });
      continue;
    }
    lane.spans.push({ fromS: span.fromS, toS: span.toS, segments: span.segments });
    lane.w = Math.max(lane.w, span.w);
    lane.h = Math.max(lane.h, span.h);
    lane.lastToS = span.toS;
  }
  return {
    lanes: lanes.map(({ w, h, spans: laneSpans }) => ({ w, h, spans: laneSpans })),
    wholeFrame: mergeSpans(wholeFrame),
  };
}

function mergeSpans(spans: readonly WholeFrameSpan[]): WholeFrameSpan[] {
  const merged: Array<{ fromS: number; toS: number }> = [];
  for (const span of [...spans].sort((a, b) => a.fromS - b.fromS)) {
    const last = merged[merged.length - 1];
    if (last && span.fromS <= last.toS) last.toS = Math.max(last.toS, span.toS);
    else merged.push({ ...span });
  }
  return merged;
}

/** Whether the plan blurs anything at all. */
export function isEmptyFaceBlurPlan(plan: FaceBlurPlan): boolean {
  return plan.lanes.length === 0 && plan.wholeFrame.length === 0;
}
