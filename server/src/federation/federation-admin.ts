import { parseChannelRef, type ChannelRef } from '@live-upload/schema';
import type { z } from 'zod';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import type { Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import type { FederationMetrics } from '../observability/index.js';
import { rejectFollowActivity } from './activities.js';
import type { DeadLetter, DeadLetterPage, DeadLetters } from './dead-letters.js';
import { enqueueDelivery, publishJob } from './delivery-queue.js';
import { hashKey, type Block, type blockInputSchema, type Blocks, type Followers, type ListedFollower } from './federation-stores.js';

export interface FederationAdminOptions {
  readonly bus: Bus;
  readonly blocks: Blocks;
  readonly followers: Followers;
  readonly deadLetters: DeadLetters;
  readonly audit: AuditLog;
  readonly metrics: FederationMetrics;
  readonly publicUrl: () => string;
}

/**
 * What the admin does to federation, each change audited (`federation.*` actions): blocks of
 * domains and actors, a channel's followers (listed, removed with a `Reject` of their follow),
 * and the deliveries that gave up (listed, retried, discarded). Shapes are checked at the route.
 */
export class FederationAdmin {
  constructor(private readonly options: FederationAdminOptions) {}

  async block(input: z.infer<typeof blockInputSchema>, actor: string): Promise<Block> {
    const block = await this.options.blocks.add(input);
    await this.options.audit.record({ actor, action: AUDIT_ACTIONS.federationBlockAdded, target: block.id, details: { kind: block.kind, value: block.value } });
    return block;
  }

  async unblock(id: string, actor: string): Promise<void> {
    const removed = await this.options.blocks.remove(id);
    if (!removed) throw new AppError('not_found', 'no such block');
    await this.options.audit.record({ actor, action: AUDIT_ACTIONS.federationBlockRemoved, target: removed.id, details: { kind: removed.kind, value: removed.value } });
  }

  followers(ref: ChannelRef, page: { limit: number; after?: string }): Promise<{ followers: ListedFollower[]; next_after: string | null }> {
    return this.options.followers.page(ref, page);
  }

  /**
   * Removes a follower: the record goes (no more posts to it), its server is sent a signed
   * `Reject` of the follow (so it stops showing the channel as followed), and it is audited.
   */
  async removeFollower(ref: ChannelRef, id: string, actor: string): Promise<void> {
    const follower = await this.options.followers.get(ref, id);
    if (!follower) throw new AppError('not_found', `no such follower of ${ref.publisher}/${ref.slug}`);
    await this.options.followers.remove(ref, follower.actor);
    const reject = rejectFollowActivity(this.options.publicUrl(), ref, follower.actor, follower.follow_id);
    if (!(await this.options.blocks.isBlocked(follower.actor)) && !(await this.options.blocks.isBlocked(follower.inbox))) {
      await enqueueDelivery(this.options.bus, ref, reject, { actor: follower.actor, inbox: follower.inbox });
    }
    this.options.metrics.follows.inc({ change: 'removed' });
    await this.options.audit.record({ actor, action: AUDIT_ACTIONS.federationFollowerRemoved, target: `${ref.publisher}/${ref.slug}`, details: { follower: follower.actor, follower_id: id } });
  }

  deadLetters(page: { limit: number; after?: string }): Promise<DeadLetterPage> {
    return this.options.deadLetters.page(page);
  }

  async deadLetter(id: string): Promise<DeadLetter> {
    const found = await this.options.deadLetters.read(id);
    if (!found) throw new AppError('not_found', 'no such dead letter');
    return found.letter;
  }

  /**
   * Sends a dead letter again as a new delivery (the same body, so the receiver can still
   * dedupe it by the activity's id) on the work queue with its retries, then removes it. The new
   * delivery id comes from the dead letter's id and KV revision: two replicas retrying the same
   * dead letter at once make one delivery (the queue drops the second publish as a duplicate).
   */
  async retryDeadLetter(id: string, actor: string): Promise<{ delivery_id: string }> {
    const found = await this.options.deadLetters.read(id);
    if (!found) throw new AppError('not_found', 'no such dead letter');
    const { letter, revision } = found;
    const ref = parseChannelRef(letter.channel);
    if (!ref) throw new AppError('conflict', `the dead letter's channel ${letter.channel} is not a channel`);
    const deliveryId = `fed_${hashKey(`${letter.delivery_id}\nretry\n${revision}`)}`;
    await publishJob(this.options.bus, ref, {
      delivery_id: deliveryId,
      channel: letter.channel,
      inbox: letter.inbox,
      recipient: letter.recipient,
      activity: letter.activity,
      activity_type: letter.activity_type,
      retry_of: letter.delivery_id,
    });
    await this.options.deadLetters.remove(letter.delivery_id);
    await this.options.audit.record({ actor, action: AUDIT_ACTIONS.federationDeadLetterRetried, target: letter.delivery_id, details: { delivery_id: deliveryId, inbox: letter.inbox, activity_type: letter.activity_type } });
    return { delivery_id: deliveryId };
  }

  async discardDeadLetter(id: string, actor: string): Promise<void> {
    const found = await this.options.deadLetters.read(id);
    if (!found) throw new AppError('not_found', 'no such dead letter');
    await this.options.deadLetters.remove(id);
    await this.options.audit.record({ actor, action: AUDIT_ACTIONS.federationDeadLetterDiscarded, target: id, details: { inbox: found.letter.inbox, activity_type: found.letter.activity_type } });
  }
}
