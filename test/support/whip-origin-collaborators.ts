import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LiveHlsSink, OriginCollaborators, OriginSession, OriginSignals } from '../../server/src/origin/index.js';

/**
 * A real `LiveHlsSink` for tests: copies every file it is handed into
 * `{root}/{channel}/{session id}/{relative path}` (a local stand-in for the ObjectStore mirror)
 * and remembers the order, so a test can check that a playlist came after its segments and
 * ffprobe the copied ladder.
 */
export class DirectoryHlsSink implements LiveHlsSink {
  readonly handed: string[] = [];
  /** What each `discard` removed (a ladder restarted before it was playable). */
  readonly discarded: string[][] = [];
  closed = false;
  isLive = false;

  constructor(readonly directory: string) {}

  async fileWritten(relativePath: string, absolutePath: string): Promise<void> {
    const target = join(this.directory, relativePath);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(absolutePath, target);
    this.handed.push(relativePath);
  }

  /** Removes the copies handed so far (a ladder replaced before the session went live); refused after `live()`, as the media store's mirror refuses it. */
  async discard(): Promise<void> {
    if (this.isLive) throw new Error('the ladder is live: it is not discarded');
    const removed = this.handed.splice(0);
    for (const relativePath of removed) await rm(join(this.directory, relativePath), { force: true });
    this.discarded.push(removed);
  }

  live(): void {
    this.isLive = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A real `OriginSignals` for tests: records each call with the session as it was passed. */
export class RecordingOriginSignals implements OriginSignals {
  readonly online_: OriginSession[] = [];
  readonly offline_: OriginSession[] = [];

  async online(session: OriginSession): Promise<void> {
    this.online_.push(session);
  }

  async offline(session: OriginSession): Promise<void> {
    this.offline_.push(session);
  }

  onlineFor(sessionId: string): OriginSession[] {
    return this.online_.filter((session) => session.session_id === sessionId);
  }

  offlineFor(sessionId: string): OriginSession[] {
    return this.offline_.filter((session) => session.session_id === sessionId);
  }
}

/** Collaborators for `StartOptions.origin`: one `DirectoryHlsSink` per session under `root`, one signals recorder. */
export class TestOriginCollaborators implements OriginCollaborators {
  readonly sinks = new Map<string, DirectoryHlsSink>();
  readonly signals = new RecordingOriginSignals();

  constructor(readonly root: string) {}

  readonly sinkFor = (session: OriginSession): DirectoryHlsSink => {
    const sink = new DirectoryHlsSink(join(this.root, session.channel, session.session_id));
    this.sinks.set(session.session_id, sink);
    return sink;
  };
}
