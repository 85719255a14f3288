# The live-upload server: Node 22 LTS on Debian slim, ffmpeg from Debian, the compiled server,
# its production dependencies, the browser bundles and the FFmpeg.wasm cores; nothing else.
#
#   docker build -t live-upload .
#
# Needs a builder that skips the stages the target does not use (BuildKit, Docker's default since
# 23.0; podman and buildah): the two sources of /app below are alternatives.
#
# Build arguments:
# - BASE: the runtime image (default node:22-bookworm-slim). The image test builds on a Debian
#   base made with mmdebstrap (scripts/container/build-base-image.sh) on machines that reach no
#   image registry.
# - BUILDER: the image the build stage runs npm in (default node:22-bookworm-slim).
# - APP: where /app comes from. `app-built` (default): npm ci and the build run in this file.
#   `app-prebuilt`: copied from dist/container/app, which `node --import tsx
#   scripts/container/prepare-app.ts` lays out on the host (after npm ci and npm run build), for
#   hosts whose container builds cannot reach the npm registry.
ARG BASE=node:22-bookworm-slim
ARG BUILDER=node:22-bookworm-slim
ARG APP=app-built

# ---- build: all dependencies, the browser bundles, then /app (compiled, production only) ----
FROM ${BUILDER} AS app-built
WORKDIR /src
# The manifests first, so the install is cached until the lockfile changes.
COPY package.json package-lock.json ./
COPY packages/schema/package.json packages/schema/
COPY server/package.json server/
COPY element/package.json element/
COPY demo/package.json demo/
COPY test/package.json test/
COPY bench/package.json bench/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && node --import tsx scripts/container/prepare-app.ts /app

# ---- runtime: Debian slim with node, ffmpeg and the one writable directory ----
FROM ${BASE} AS runtime-base
# ffmpeg and ffprobe from Debian (moderation probes and publish transcodes run them); a base that
# has them already (the mmdebstrap one) skips the install. /data is the one writable place
# (quarantine, media, with EMBEDDED_NATS=on a nats store), owned by the server's user.
RUN if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && mkdir -p /data \
    && chown 10001:10001 /data

# /app, owned by root and read-only to the server's user (the process cannot change its own
# code), from one of the two sources APP names; one copy either way.
FROM runtime-base AS runtime-app-built
COPY --from=app-built /app /app

FROM runtime-base AS runtime-app-prebuilt
COPY dist/container/app /app

FROM runtime-${APP} AS runtime
WORKDIR /app
COPY deploy/healthcheck.mjs /app/deploy/healthcheck.mjs

# Production defaults for a container. Secrets (TWITCH_EVENTSUB_SECRET, ADMIN_TOKEN,
# UPLOAD_TOKEN_SECRET, TOKEN_ENCRYPTION_KEYS) and NATS_URL come from the environment at run time;
# production refuses to start without them.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    QUARANTINE_DIR=/data/quarantine \
    MEDIA_DIR=/data/media \
    EMBEDDED_NATS=off \
    EMBEDDED_NATS_DIR=/data/nats \
    HOME=/tmp

# A numeric user with no entry in /etc/passwd: the same on every base, never root.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# main.ts stops on SIGTERM: /readyz fails first, HTTP drains, SSE streams end with a retry hint,
# workers hand their jobs back to the bus; it exits 0 within its 10 s deadline.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=3 CMD ["node", "/app/deploy/healthcheck.mjs"]
CMD ["node", "--enable-source-maps", "server/src/main.js"]
