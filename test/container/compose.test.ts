import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from './podman.js';

/**
 * compose.yaml, read as YAML and checked against what the deployment promises: a three-node
 * JetStream cluster with routes between all nodes, two buckets made before any replica starts,
 * two read-only replicas on that cluster (streams kept on 3 nodes) and that storage, the demo
 * off, every secret required from the environment, one entry point whose SSE location does not
 * buffer. No image registry is reachable here, so `compose up` cannot run in the tests; this is
 * what can be checked without it. The YAML is parsed by PyYAML, which podman-compose brings.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
  read_only?: boolean;
  tmpfs?: string[];
  ports?: string[];
  volumes?: string[];
}

const SECRETS = ['TWITCH_EVENTSUB_SECRET', 'ADMIN_TOKEN', 'UPLOAD_TOKEN_SECRET', 'TOKEN_ENCRYPTION_KEYS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

const parser = await run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)', 'compose.yaml']).catch((error: unknown) => ({ code: 1, stdout: '', stderr: String(error) }));
const noParser = parser.code !== 0 && /ModuleNotFoundError|not found|ENOENT/.test(parser.stderr);
if (noParser) process.stderr.write('compose.yaml test: no YAML parser here (python3 with PyYAML comes with podman-compose); not checked\n');

describe('compose.yaml', { skip: noParser && 'no python3 with PyYAML here' }, () => {
  let services: Record<string, Service>;

  before(() => {
    assert.equal(parser.code, 0, `compose.yaml does not parse: ${parser.stderr}`);
    services = (JSON.parse(parser.stdout) as { services: Record<string, Service> }).services;
  });

  it('runs NATS as a three-node JetStream cluster whose nodes all route to each other', () => {
    const nodes = Object.entries(services).filter(([, service]) => service.image?.startsWith('nats:'));
    assert.equal(nodes.length, 3);
    const names = nodes.map(([name]) => name).sort();
    for (const [name, service] of nodes) {
      const args = service.command as string[];
      const flag = (key: string) => args[args.indexOf(key) + 1];
      assert.ok(args.includes('--jetstream'), `${name} runs JetStream`);
      assert.equal(flag('--name'), name, `${name} has its own server name`);
      assert.equal(flag('--cluster_name'), 'live-upload');
      assert.deepEqual(flag('--routes')!.split(',').map((route) => new URL(route).hostname).sort(), names, `${name} routes to every node`);
      assert.ok(service.volumes?.some((volume) => volume.endsWith(':/data')), `${name} keeps its store in a volume`);
    }
  });

  it('makes the two buckets the replicas use before any replica starts', () => {
    const server = services['server']!;
    const script = JSON.stringify(services['buckets']?.command);
    for (const bucket of [server.environment!['STORAGE_QUARANTINE_BUCKET'], server.environment!['STORAGE_MEDIA_BUCKET']]) {
      assert.ok(bucket && script.includes(`local/${bucket}`), `the buckets service makes ${bucket}`);
    }
    assert.deepEqual((server.depends_on as Record<string, { condition: string }>)['buckets'], { condition: 'service_completed_successfully' });
  });

  it('runs two read-only replicas of the image on the cluster and the S3 storage, the demo off, secrets only from the environment', () => {
    const server = services['server']!;
    assert.equal(server.build, '.');
    assert.equal(server.deploy?.replicas, 2);
    assert.equal(server.read_only, true);
    assert.deepEqual(server.tmpfs, ['/tmp']);
    const env = server.environment!;
    assert.equal(env['NODE_ENV'], 'production');
    assert.equal(env['DEMO'], 'off');
    assert.equal(env['BUS_REPLICAS'], '3');
    assert.deepEqual(env['NATS_URL']!.split(',').map((url) => new URL(url).hostname).sort(), ['nats-1', 'nats-2', 'nats-3']);
    assert.equal(new URL(env['STORAGE_URL']!).hostname, 'minio');
    for (const secret of SECRETS) assert.match(env[secret] ?? '', /^\$\{[A-Z0-9_]+:\?[^}]+\}$/, `${secret} is required from the environment`);
    // Nothing but the entry point is published on the host.
    const published = Object.entries(services).filter(([, service]) => service.ports?.length).map(([name]) => name);
    assert.deepEqual(published, ['proxy']);
  });

  it('puts one nginx in front of every replica, with unbuffered server-sent events', async () => {
    const proxy = services['proxy']!;
    assert.ok(proxy.volumes?.includes('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro'));
    const nginx = await readFile(`${root}deploy/nginx.conf`, 'utf8');
    assert.match(nginx, /upstream live_upload \{[^}]*server server:8080 resolve;/);
    const events = /location = \/api\/v1\/live\/events \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    assert.match(events, /proxy_pass http:\/\/live_upload;/);
    assert.match(events, /proxy_buffering off;/);
  });
});
