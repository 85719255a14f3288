/* global process, fetch, AbortSignal */
// The image's HEALTHCHECK: GET /healthz on this container's own listener, exit 0 on a 2xx and
// 1 otherwise, within 8 s (the Dockerfile gives the check 10: starting node alone took over 3 s
// on a loaded 2-core machine). Plain node, since the runtime image has no curl or wget; it reads
// the PORT and HOST the server reads.
const port = process.env.PORT || '8080';
const configured = process.env.HOST || '0.0.0.0';
const host = configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured.includes(':') ? `[${configured}]` : configured;

try {
  const response = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(8_000) });
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
