/* global process, fetch, AbortSignal */
// The image's HEALTHCHECK: GET /healthz on this container's own listener, exit 0 on a 2xx and
// 1 otherwise (within the timeout Docker gives it). Plain node, since the runtime image has no
// curl or wget; it reads the PORT and HOST the server reads.
const port = process.env.PORT || '8080';
const configured = process.env.HOST || '0.0.0.0';
const host = configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured.includes(':') ? `[${configured}]` : configured;

try {
  const response = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(2_500) });
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
