import type { ChannelRef } from '@live-upload/schema';
import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { InboxRefusedError } from './inbox-verifier.js';
import { acceptActivity } from './activities.js';
import { actorUrls } from './actor-urls.js';
import type { Bus } from '../bus/index.js';
import { enqueueDelivery } from './delivery-queue.js';
import type { Followers } from './federation-stores.js';
import type { RemoteActor } from './remote-actor.js';

const activitySchema = z.looseObject({
  id: z.string().max(2048).optional(),
  type: z.string(),
  actor: z.union([z.string(), z.looseObject({ id: z.string() })]),
  object: z.unknown(),
});

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  return undefined;
}

/** What an inbox POST came to (for the route's status and the logs). */
export type InboxOutcome = 'followed' | 'unfollowed' | 'ignored';

/**
 * Applies one verified activity to a channel's actor: `Follow` of this actor stores the follower
 * and enqueues a signed `Accept`; `Undo` of a `Follow` removes it; anything else is accepted and
 * ignored. The activity's actor must be the signer (no one follows on someone else's behalf).
 */
export async function handleInboxActivity(
  deps: { bus: Bus; followers: Followers; publicUrl: string; now: () => number },
  ref: ChannelRef,
  signer: RemoteActor,
  value: unknown,
): Promise<InboxOutcome> {
  const parsed = activitySchema.safeParse(value);
  if (!parsed.success) throw new AppError('invalid_body', 'not an ActivityStreams activity (type, actor, object)');
  const activity = parsed.data;
  if (idOf(activity.actor) !== signer.id) throw new InboxRefusedError('actor_mismatch', 'the activity\'s actor is not the signer');
  const urls = actorUrls(deps.publicUrl, ref);
  if (activity.type === 'Follow') {
    if (idOf(activity.object) !== urls.id) throw new AppError('unprocessable', 'the Follow is not of this actor');
    if (!activity.id) throw new AppError('invalid_body', 'a Follow must have an id');
    await deps.followers.add(ref, { actor: signer.id, inbox: signer.inbox, shared_inbox: signer.sharedInbox ?? null, followed_at: new Date(deps.now()).toISOString(), follow_id: activity.id });
    const accept = acceptActivity(deps.publicUrl, ref, { id: activity.id, type: 'Follow', actor: signer.id, object: urls.id }, activity.id);
    await enqueueDelivery(deps.bus, ref, accept, { actor: signer.id, inbox: signer.inbox });
    return 'followed';
  }
  if (activity.type === 'Undo') {
    const inner = activity.object;
    const innerType = typeof inner === 'object' && inner !== null ? (inner as { type?: unknown }).type : undefined;
    if (innerType === 'Follow') {
      await deps.followers.remove(ref, signer.id);
      return 'unfollowed';
    }
  }
  return 'ignored';
}
