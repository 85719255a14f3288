import type { StoryboardPlan } from './ladder-plan.js';

/** One seek-preview cue: the thumbnail shown while hovering between `startS` and `endS`. */
export interface StoryboardCue {
  readonly startS: number;
  readonly endS: number;
  /** The sprite sheet, relative to the VTT file. */
  readonly sheet: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The cues of a storyboard: thumbnail i shows second i x interval, sits on sheet
 * floor(i / tiles per sheet) at its column and row (ffmpeg's `tile` filter fills rows left to
 * right, top to bottom). The last cue ends at the duration. `sheets` caps the cues at what was
 * produced, so a duration that overstates the picture never points at a missing sheet. Pure.
 */
export function storyboardCues(
  plan: StoryboardPlan,
  durationS: number,
  sheetName: (sheet: number) => string,
  sheets = Number.POSITIVE_INFINITY,
): StoryboardCue[] {
  const perSheet = plan.columns * plan.rows;
  const count = Math.min(Math.ceil(durationS / plan.intervalS), sheets * perSheet);
  const cues: StoryboardCue[] = [];
  for (let i = 0; i < count; i += 1) {
    const onSheet = i % perSheet;
    cues.push({
      startS: i * plan.intervalS,
      endS: Math.min((i + 1) * plan.intervalS, durationS),
      sheet: sheetName(Math.floor(i / perSheet) + 1),
      x: (onSheet % plan.columns) * plan.tileWidth,
      y: Math.floor(onSheet / plan.columns) * plan.tileHeight,
      width: plan.tileWidth,
      height: plan.tileHeight,
    });
  }
  return cues;
}

/** A WebVTT file of storyboard cues, each a sheet URL with a `#xywh=` media fragment (what players read). Pure. */
export function writeStoryboardVtt(cues: readonly StoryboardCue[]): string {
  const blocks = cues.map((cue) => `${vttTime(cue.startS)} --> ${vttTime(cue.endS)}\n${cue.sheet}#xywh=${cue.x},${cue.y},${cue.width},${cue.height}`);
  return `WEBVTT\n\n${blocks.join('\n\n')}\n`;
}

/** Reads a storyboard WebVTT back into cues. Throws a `TypeError` on anything else. Pure. */
export function parseStoryboardVtt(text: string): StoryboardCue[] {
  const blocks = text.replace(/\r\n/g, '\n').split(/\n{2,}/).map((block) => block.trim()).filter((block) => block.length > 0);
  if (!blocks[0]?.startsWith('WEBVTT')) throw new TypeError('not a WebVTT file');
  return blocks.slice(1).map((block) => {
    const [timing, payload] = block.split('\n');
    const times = /^(\S+) --> (\S+)/.exec(timing ?? '');
    const target = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload ?? '');
    if (!times || !target) throw new TypeError(`not a storyboard cue: ${JSON.stringify(block)}`);
    return {
      startS: parseVttTime(times[1]!),
      endS: parseVttTime(times[2]!),
      sheet: target[1]!,
      x: Number(target[2]),
      y: Number(target[3]),
      width: Number(target[4]),
      height: Number(target[5]),
    };
  });
}

function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms % 1000, 3)}`;
}

function parseVttTime(text: string): number {
  const match = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(text);
  if (!match) throw new TypeError(`not a WebVTT time: ${text}`);
  return Number(match[1] ?? 0) * 3600 + Number(match[2]) * 60 + Number(match[3]) + Number(match[4]) / 1000;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
