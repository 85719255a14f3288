import type { RemoteActor } from './remote-actor.js';

/** How long a fetched actor's key is trusted without fetching it again. */
export const REMOTE_ACTOR_TTL_MS = 10 * 60 * 1000;
/** Actors kept at most (the oldest goes first). */
export const REMOTE_ACTOR_CACHE_SIZE = 1000;

/**
 * Remote actors by key id, for a few minutes: a server delivering many activities costs one
 * fetch of its actor, not one per POST. A signature that fails under a cached key is checked
 * again under a fresh fetch (the key may have been rotated), see `verifyInboxPost`.
 */
export class RemoteActorCache {
  private readonly entries = new Map<string, { actor: RemoteActor; expiresAtMs: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  get(keyId: string): RemoteActor | undefined {
    const entry = this.entries.get(keyId);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.entries.delete(keyId);
      return undefined;
    }
    return entry.actor;
  }

  set(actor: RemoteActor): void {
    this.entries.delete(actor.keyId);
    this.entries.set(actor.keyId, { actor, expiresAtMs: this.now() + REMOTE_ACTOR_TTL_MS });
    while (this.entries.size > REMOTE_ACTOR_CACHE_SIZE) this.entries.delete(this.entries.keys().next().value!);
  }
}
