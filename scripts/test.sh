#!/usr/bin/env bash
# npm test: everything, against real parts (NATS, ffmpeg, Chromium), from a fresh clone after npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh
echo "== typecheck"; npm run --silent typecheck
echo "== lint"; npm run --silent lint
echo "== build"; npm run --silent build
echo "== unit, contract and HTTP tests (memory bus and a real nats-server)"; npm run --silent test:unit
echo "== browser tests (web-test-runner, Chromium)"; npm run --silent test:browser
echo "== end-to-end (playwright-core, Chromium, NATS)"; npm run --silent test:e2e
echo "== container image (podman: build the Dockerfile, run it read-only, /healthz, a webhook, SIGTERM)"; npm run --silent test:container
