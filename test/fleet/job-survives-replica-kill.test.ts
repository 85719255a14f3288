/**
 * Issue 20: a job in flight on one replica when that replica is killed with -9 finishes on the
 * other, applied once. Two replicas of the real entry point on different nodes of a three-node
 * NATS cluster (every stream and bucket in three copies), both running every worker, sharing one
 * S3-compatible store (s3rver, STORAGE_URL) for the quarantine, the media and the tus data.
 *
 * Whichever replica takes the promotion job (the transcode) is "A": once the upload is approved
 * (moderation done), the replica with an ffmpeg child working on this upload is transcoding it;
 * it is killed with SIGKILL while it does. The clip is 20 s of 720p so that the transcode lasts
 * seconds: the 5 s media fixture is transcoded (one encode for MP4 and HLS) in about a second,
 * which a loaded machine can miss between two looks. The job's ack
 * wait passes (PROMOTION_ACK_WAIT_MS, 15 s: not configurable), JetStream redelivers it to B,
 * and B publishes it: one approval and one publish in the audit trail, the media served by B.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFfmpeg } from '../../server/src/media/index.js';
import { eventually } from '../support/eventually.js';
import type { MainProcess } from '../support/main-process.js';
import { startNatsCluster, type NatsClusterHandle } from '../support/nats-cluster.js';
import { startS3Server, type S3ServerHandle } from '../support/s3-server.js';
import { uploadThroughTus } from '../support/tus-upload.js';
import { adminFetch, startReplicas, stopReplica } from './fleet.js';

const CHANNEL = 'acme/fleet-jobs';
const CLIP_SECONDS = 20;

/** A 720p30 H.264 + AAC clip long enough that its publish transcode takes seconds. */
async function longClip(dir: string): Promise<string> {
  const path = join(dir, 'long-720p.mp4');
  await runFfmpeg(
    [
      '-y', '-v', 'error',
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${CLIP_SECONDS}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${CLIP_SECONDS}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-threads', '1', '-c:a', 'aac', '-b:a', '96k', path,
    ],
    { timeoutMs: 60_000 },
  );
  return path;
}

interface UploadStatus {
  readonly status: string;
  readonly media?: { readonly mp4: string };
}

/** The pid of an ffmpeg whose parent is `parent` and whose command line names `needle`, if one runs. */
async function childFfmpeg(parent: number, needle: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (cmdline[0]?.endsWith('ffmpeg') && cmdline.some((arg) => arg.includes(needle))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('a fleet finishes a job whose replica was killed with -9 on the other replica, once', () => {
  let cluster: NatsClusterHandle;
  let replicas: Array<MainProcess | undefined> = [];
  let s3: S3ServerHandle;
  let dir: string;
  let clip: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-jobs-'));
    clip = await longClip(dir);
    s3 = await startS3Server();
    cluster = await startNatsCluster();
    const { a, b } = await startReplicas(cluster, { ...s3.env, MODERATION_POLICY: 'auto' });
    replicas = [a, b];
    const channel = await adminFetch(a, `/api/v1/channels/${CHANNEL}`, { method: 'PUT', body: JSON.stringify({ providers: {}, uploads: 'open' }) });
    assert.equal(channel.status, 201, await channel.text());
  });
  after(async () => {
    await Promise.all(replicas.map((replica) => stopReplica(replica)));
    await cluster?.stop();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the transcode cut off on A by kill -9 is redelivered to B and published exactly once', async (t) => {
    const data = await readFile(clip);
    const grantResponse = await adminFetch(replicas[0]!, '/api/v1/uploads/token', {
      method: 'POST',
      body: JSON.stringify({ channel: CHANNEL, filename: 'fleet.mp4', size: data.length, type: 'video/mp4', source: 'file', title: 'Killed mid-transcode' }),
    });
    assert.equal(grantResponse.status, 201, await grantResponse.clone().text());
    const grant = (await grantResponse.json()) as { upload_url: string; token: string; upload_id: string };
    await uploadThroughTus(grant, data, replicas[0]!.url);
    const uploadId = grant.upload_id;

    // After approval, the replica whose ffmpeg works on this upload holds the promotion job: that is A.
    const statusOf = async (replica: MainProcess): Promise<UploadStatus> => (await (await adminFetch(replica, `/api/v1/uploads/${uploadId}`)).json()) as UploadStatus;
    const transcoder = await eventually(
      async () => {
        for (const [index, replica] of replicas.entries()) {
          if (!replica) continue;
          const { status } = await statusOf(replica);
          assert.notEqual(status, 'published', 'the transcode ended before any look saw it: the clip is too short for this machine');
          if (status === 'approved' && (await childFfmpeg(replica.pid, uploadId)) !== undefined) return { index };
        }
        return undefined;
      },
      'one replica to be transcoding the upload',
      60_000,
      { intervalMs: 20 },
    );
    const a = replicas[transcoder.index]!;
    const b = replicas[1 - transcoder.index]!;
    await a.kill();
    replicas[transcoder.index] = undefined;
    const killedAt = Date.now();
    t.diagnostic(`the replica on node ${transcoder.index} held the job and was killed mid-transcode`);

    const published = await eventually(
      async () => {
        const record = await statusOf(b);
        assert.notEqual(record.status, 'rejected', 'a redelivered job must not be counted as a failure');
        return record.status === 'published' ? record : undefined;
      },
      'B to publish the upload',
      90_000,
      { intervalMs: 250 },
    );
    t.diagnostic(`published by the replica on node ${1 - transcoder.index} ${Date.now() - killedAt} ms after the kill`);

    const video = await fetch(`${b.url}${published.media!.mp4}`, { headers: { Range: 'bytes=0-99' } });
    assert.equal(video.status, 206, `${published.media!.mp4}: ${await video.clone().text()}`);
    await video.body?.cancel();
    const audit = (await (await adminFetch(b, '/api/v1/audit?limit=200')).json()) as { records: Array<{ action: string; target: string }> };
    const actions = audit.records.filter((record) => record.target === uploadId).map((record) => record.action);
    for (const action of ['upload.approved', 'upload.published']) {
      assert.equal(actions.filter((name) => name === action).length, 1, `${action} once: ${actions.join(',')}`);
    }
  });
});
