import { parseChannelRef, type ChannelRef, type LiveMetadata } from '@live-upload/schema';
import { STREAMS, type Bus, type BusMessage, type Consumer } from '../bus/index.js';
import { liveStatusOf } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { endedActivity, goLiveActivity, liveNote, noteDiffers, noteUpdateActivity, type ActivityObject } from './activities.js';
import { FEDERATION_CONSUMERS, enqueueDelivery } from './delivery-queue.js';
import type { Announcement, Announcements, Blocks, Followers } from './federation-stores.js';

export interface LiveAnnouncerOptions {
  readonly bus: Bus;
  readonly followers: Followers;
  readonly blocks: Blocks;
  readonly announcements: Announcements;
  readonly publicUrl: () => string;
  readonly logger: Logger;
  /** A preview image of a live channel, when there is one. */
  readonly previewUrl?: (ref: ChannelRef, record: LiveMetadata) => string | undefined;
}

/**
 * Reads `live.status.>` with its own durable consumer, as the outbound webhooks' fan-out does,
 * and turns a public broadcast going live into a `Create` of a `Note` for each follower, a
 * change of its title or preview while live into an `Update` of that note, and its end into a
 * `Delete`. The announcement record (per channel) makes a repeated or
 * redelivered status a no-op; the delivery ids make a re-enqueued job a duplicate.
 */
export class LiveAnnouncer {
  private consumer: Consumer | undefined;
  constructor(private readonly options: LiveAnnouncerOptions) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.options.bus.consume({ stream: STREAMS.liveStatus.name, durable: FEDERATION_CONSUMERS.liveStatus, maxAckPending: 64 }, (message) => this.handle(message));
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  private async handle(message: BusMessage): Promise<void> {
    const record = liveStatusOf(message, this.options.logger, 'not federated');
    if (!record) return;
    const ref = parseChannelRef(record.channel);
    if (!ref) {
      this.options.logger.warn({ subject: message.subject, seq: message.seq, channel: record.channel }, 'live status of no channel not federated');
      message.term();
      return;
    }
    await this.announce(ref, record);
  }

  /**
   * Decides what a status record means to followers, enqueues it, then records the decision by
   * compare-and-set. A record older than the last one decided on (by its per-channel `seq`) is
   * stale and changes nothing. A lost compare-and-set or a crash before the write throws or
   * redelivers: the record is decided again, and what it enqueues again has the same delivery
   * ids, which the work queue drops as duplicates (followers never get a post twice, nor miss one).
   */
  async announce(ref: ChannelRef, record: LiveMetadata): Promise<void> {
    const { announcements, publicUrl } = this.options;
    const stored = await announcements.read(ref);
    const last = stored?.value;
    if (last && record.seq <= last.seq) return;
    const base = publicUrl();
    const open = last && last.canonical_id !== null && !last.ended ? last.canonical_id : undefined;
    const activities: ActivityObject[] = [];
    let next: Announcement;
    if (record.status === 'live' && record.is_public && record.canonical_id !== null) {
      if (open === record.canonical_id) {
        next = { ...last!, seq: record.seq };
        const announced = last!.activity;
        const shown = announced && typeof announced['object'] === 'object' && announced['object'] !== null ? (announced['object'] as ActivityObject) : undefined;
        const now = liveNote(base, { ...record, canonical_id: record.canonical_id }, ref, this.options.previewUrl?.(ref, record));
        if (shown && noteDiffers(shown, now)) {
          // The title or preview changed while live: followers get the note again, and the outbox shows it.
          const update = noteUpdateActivity(base, ref, { ...now, published: shown['published'] }, record.updated_at, record.seq);
          activities.push(update);
          next = { ...next, activity: { ...announced!, object: update['object'] } };
        }
      } else {
        if (open !== undefined) activities.push(endedActivity(base, ref, open));
        const created = goLiveActivity(base, { ...record, canonical_id: record.canonical_id }, ref, this.options.previewUrl?.(ref, record));
        activities.push(created);
        next = { seq: record.seq, canonical_id: record.canonical_id, ended: false, activity: created };
      }
    } else if (open !== undefined) {
      activities.push(endedActivity(base, ref, open));
      next = { ...last!, seq: record.seq, ended: true };
    } else {
      next = last ? { ...last, seq: record.seq } : { seq: record.seq, canonical_id: null, ended: true, activity: null };
    }
    for (const activity of activities) await this.deliver(ref, activity);
    await announcements.write(ref, next, stored?.revision);
  }

  private async deliver(ref: ChannelRef, activity: ActivityObject): Promise<void> {
    const body = JSON.stringify(activity);
    const followers = await this.options.followers.list(ref);
    const inboxes = new Set<string>();
    const publishes: Promise<void>[] = [];
    // Public posts go to each server's shared inbox once (as Mastodon delivers), else to each follower's.
    for (const follower of followers) {
      const target = follower.shared_inbox ?? follower.inbox;
      if (inboxes.has(target)) continue;
      if ((await this.options.blocks.isBlocked(follower.actor)) || (await this.options.blocks.isBlocked(target))) continue;
      inboxes.add(target);
      publishes.push(enqueueDelivery(this.options.bus, ref, activity, { actor: follower.actor, inbox: target }, body));
    }
    const failed = (await Promise.allSettled(publishes)).find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
