import type { SsePong } from '../load/protocol.js';
import type { BenchChild } from './child.js';
import { median, wallNow } from './stats.js';

/**
 * How far a child process's wall clock is ahead of ours (ms), from seven IPC round trips: the
 * child answers a `ping` with a `pong` carrying its own clock, taken as read at the trip's middle.
 */
export async function clockOffset(child: BenchChild<SsePong | { readonly type: string }>): Promise<number> {
  const offsets: number[] = [];
  for (let i = 0; i < 7; i++) {
    const sentAt = wallNow();
    child.send({ type: 'ping', sentAt });
    const pong = await (child as BenchChild<SsePong>).next((m): m is SsePong => m.type === 'pong' && m.sentAt === sentAt, 5_000);
    offsets.push(pong.childAt - (sentAt + wallNow()) / 2);
  }
  return median(offsets);
}
