/**
 * IPC messages of the fan-out fleet bench (bench/fanout-fleet.ts) and its helper processes:
 * server replicas, bare broadcast processes, and a trigger that sends several requests at once.
 * The SSE subscriber processes speak bench/load/protocol.ts, plus a source address to bind.
 */
import type { SseOpen, SsePing, SsePong } from './protocol.js';

/** `open`, with the loopback address the connections are made from (127.0.0.2, ...): its own ephemeral ports. */
export interface SseOpenFrom extends SseOpen {
  readonly localAddress?: string;
}

/** Memory and CPU of a server process, its garbage collected first (so the heap is what is held, not garbage). */
export interface ProcessUsage {
  readonly type: 'usage';
  readonly rss: number;
  readonly heapUsed: number;
  /** Memory of Buffers and other C++ objects tied to JS ones (socket write buffers among them). */
  readonly external: number;
  /** CPU since the process started, user + system, ms. */
  readonly cpuMs: number;
}

export interface UsageRequest {
  readonly type: 'usage';
  /** Collect garbage first (for memory figures; skipped around rounds, where only CPU is read). */
  readonly gc: boolean;
}

/** Start a CPU profile of the process, or stop it and write it to `path` (bench/support/round-profiler.ts). */
export interface ProfileCommand {
  readonly type: 'profile';
  readonly action: 'start' | 'stop';
  readonly path?: string;
}

export interface ProfileDone {
  readonly type: 'profiled';
  readonly action: 'start' | 'stop';
}

export interface ReplicaStart {
  readonly type: 'start';
  readonly natsUrl: string;
  /** The first replica creates the test channel; the others find it in the shared store. */
  readonly withChannel: boolean;
  readonly coalesceMs: number;
  readonly graceMs: number;
  readonly env: Record<string, string>;
}

export interface ReplicaStarted {
  readonly type: 'started';
  readonly url: string;
}

export type ReplicaCommand = ReplicaStart | UsageRequest | ProfileCommand;
export type ReplicaMessage = ReplicaStarted | ProcessUsage | ProfileDone;

export interface BroadcastStart {
  readonly type: 'start';
  readonly host: string;
}

export interface BroadcastListening {
  readonly type: 'listening';
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

export interface BroadcastSetFrame {
  readonly type: 'frame';
  readonly frame: string;
}

export interface BroadcastFrameSet {
  readonly type: 'frame-set';
}

export type BroadcastCommand = BroadcastStart | BroadcastSetFrame | UsageRequest | ProfileCommand;
export type BroadcastMessage = BroadcastListening | BroadcastFrameSet | ProcessUsage | ProfileDone;

export interface FleetRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Send every request now, back to back (each on its own keep-alive connection). */
export interface FleetTriggerSend {
  readonly type: 'send';
  readonly id: number;
  readonly requests: readonly FleetRequest[];
}

export interface FleetTriggerSent {
  readonly type: 'sent';
  readonly id: number;
  /** Wall clock just before the first request was written. */
  readonly sentAt: number;
  /** Per request, in order: its status (-1: failed) and when its whole answer had arrived. */
  readonly answers: ReadonlyArray<{ readonly status: number; readonly answeredAt: number }>;
}

export type FleetTriggerCommand = FleetTriggerSend | SsePing;
export type FleetTriggerMessage = FleetTriggerSent | SsePong;
