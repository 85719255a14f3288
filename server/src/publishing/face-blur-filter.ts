import type { BlurLane, BlurSegment, FaceBlurPlan, WholeFrameSpan } from './face-blur-plan.js';

/**
 * How strongly a region is blurred: a box blur of radius `radiusShare` of the region's shorter
 * side, applied `passes` times (three passes approach a Gaussian of sigma ~ the radius). With a
 * padded face box, that is a sigma of about a third of the face's width: eyes, nose and mouth
 * melt into one blob, which is the point.
 */
export const FACE_BLUR_STRENGTH = {
  radiusShare: 1 / 4,
  passes: 3,
  /** The whole-frame blur (more faces than regions): radius as a share of the frame's shorter side. */
  wholeFrameRadiusShare: 1 / 8,
} as const;

/**
 * The ffmpeg filters that blur a plan's regions, to append (after a comma) to a simple video
 * filter chain whose frames are already at the output size; undefined when the plan blurs
 * nothing. Everything is normalised to the frame (`iw`, `W`), so the chain needs no pixel size.
 *
 * Per lane: `split` gives it its own copy of each frame, `crop` cuts the lane's fixed-size box
 * at the centre the lane follows at `t` (a sum of linear pieces, one per segment, each gated
 * by `gte(t,a)*lt(t,b)` so exactly one counts at any instant), `boxblur` blurs it, and
 * `overlay` puts it back at the same place, `enable`d only during the lane's spans (blur and
 * overlay pass frames through untouched outside them, so a lane costs little when no face is
 * on screen). Whole-frame spans end the chain with one `boxblur` enabled during those spans.
 */
export function faceBlurFilter(plan: FaceBlurPlan): string | undefined {
  const parts: string[] = [];
  const lanes = plan.lanes.filter((lane) => lane.spans.length > 0);
  if (lanes.length > 0) {
    const copies = lanes.map((_, index) => `[fb${index}]`).join('');
    const chains = [`split=${lanes.length + 1}[fbbase]${copies}`];
    lanes.forEach((lane, index) => {
      const enable = laneEnable(lane);
      const cx = laneCentre(lane, 'cx');
      const cy = laneCentre(lane, 'cy');
      chains.push(
        `[fb${index}]crop=w='${evenSize('iw', lane.w)}':h='${evenSize('ih', lane.h)}':x='${evenPosition('iw', 'ow', cx)}':y='${evenPosition('ih', 'oh', cy)}',` +
          `${regionBlur(enable)}[fbblur${index}]`,
      );
    });
    lanes.forEach((lane, index) => {
      const input = index === 0 ? '[fbbase]' : `[fbout${index - 1}]`;
      const output = index === lanes.length - 1 ? '' : `[fbout${index}]`;
      chains.push(
        `${input}[fbblur${index}]overlay=x='${evenPosition('W', 'w', laneCentre(lane, 'cx'))}':y='${evenPosition('H', 'h', laneCentre(lane, 'cy'))}':enable='${laneEnable(lane)}'${output}`,
      );
    });
    parts.push(chains.join(';'));
  }
  if (plan.wholeFrame.length > 0) {
    const r = FACE_BLUR_STRENGTH.wholeFrameRadiusShare;
    const blur = `boxblur=luma_radius='min(w,h)*${r}':luma_power=${FACE_BLUR_STRENGTH.passes}:chroma_radius='min(cw,ch)*${r}':chroma_power=${FACE_BLUR_STRENGTH.passes}:enable='${spansEnable(plan.wholeFrame)}'`;
    parts.push(blur);
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

function regionBlur(enable: string): string {
  const r = FACE_BLUR_STRENGTH.radiusShare;
  const p = FACE_BLUR_STRENGTH.passes;
  return `boxblur=luma_radius='min(w,h)*${r}':luma_power=${p}:chroma_radius='min(cw,ch)*${r}':chroma_power=${p}:enable='${enable}'`;
}

/** A region side in pixels: the share of `full`, rounded up to even (chroma), at least 2, at most the frame. */
function evenSize(full: string, share: number): string {
  return `min(${full},max(2,2*ceil(${full}*${num(share)}/2)))`;
}

/** The left/top edge in pixels for a region of `size` centred at `centre` (normalised), kept inside the frame and even. */
function evenPosition(full: string, size: string, centre: string): string {
  return `2*trunc(clip(${full}*(${centre})-${size}/2,0,${full}-${size})/2)`;
}

/** The lane's centre on one axis at `t`: one gated linear piece per segment of every span. */
function laneCentre(lane: BlurLane, axis: 'cx' | 'cy'): string {
  const pieces = lane.spans.flatMap((span) => span.segments.map((segment, index) => segmentPiece(segment, axis, index === span.segments.length - 1)));
  return pieces.join('+');
}

function segmentPiece(segment: BlurSegment, axis: 'cx' | 'cy', closesSpan: boolean): string {
  const start = axis === 'cx' ? segment.cx0 : segment.cy0;
  const end = axis === 'cx' ? segment.cx1 : segment.cy1;
  const gates: string[] = [];
  if (Number.isFinite(segment.fromS)) gates.push(`gte(t,${num(segment.fromS)})`);
  // The span's last segment includes its end (as `enable`'s between() does); others hand over to the next.
  if (Number.isFinite(segment.toS)) gates.push(closesSpan ? `lte(t,${num(segment.toS)})` : `lt(t,${num(segment.toS)})`);
  const length = segment.toS - segment.fromS;
  const moving = Number.isFinite(length) && length > 0 && start !== end;
  const value = moving ? `(${num(start)}+${num((end - start) / length)}*(t-${num(segment.fromS)}))` : num(start);
  return gates.length > 0 ? `${gates.join('*')}*${value}` : value;
}

function laneEnable(lane: BlurLane): string {
  return spansEnable(lane.spans);
}

/** Non-zero while `t` is in one of the spans (bounds included). */
function spansEnable(spans: readonly WholeFrameSpan[]): string {
  return spans
    .map(({ fromS, toS }) => {
      const from = Number.isFinite(fromS) ? `gte(t,${num(fromS)})` : '';
      const to = Number.isFinite(toS) ? `lte(t,${num(toS)})` : '';
      return [from, to].filter(Boolean).join('*') || '1';
    })
    .join('+');
}

/** A number as ffmpeg's expression parser reads it: fixed-point, no exponent, trailing zeros dropped, a negative in parentheses. */
function num(value: number): string {
  const fixed = value.toFixed(6);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  if (trimmed === '-0') return '0';
  return trimmed.startsWith('-') ? `(${trimmed})` : trimmed;
}
