#!/usr/bin/env bash
# Makes the image test's base image, localhost/live-upload-base:trixie, available to podman: a
# Debian 13 root filesystem with node, ffmpeg and CA certificates, made with mmdebstrap from
# Debian packages because no image registry (so no node:22-bookworm-slim) is reachable here.
# Building it takes minutes, so it happens once: the image is saved to a cache outside the
# repository (${XDG_CACHE_HOME:-~/.cache}/live-upload) and loaded from there on later runs.
# Progress goes to stderr. The Dockerfile builds on it with --build-arg BASE=localhost/live-upload-base:trixie.
set -euo pipefail

IMAGE=localhost/live-upload-base:trixie
SUITE=trixie
PACKAGES=ca-certificates,ffmpeg,nodejs
# The cache file is named after the recipe, so a changed recipe builds a new base.
RECIPE_KEY=$(printf '%s %s variant=essential nodoc' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
CACHE_DIR="${LIVE_UPLOAD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/live-upload}"
ARCHIVE="$CACHE_DIR/base-$SUITE-$RECIPE_KEY.oci.tar"

say() { echo "base image: $*" >&2; }

if podman image exists "$IMAGE" && [ "$(podman image inspect --format '{{index .Labels "live-upload.base-recipe"}}' "$IMAGE" 2>/dev/null)" = "$RECIPE_KEY" ]; then
  exit 0
fi

if [ -f "$ARCHIVE" ]; then
  say "loading $IMAGE from $ARCHIVE"
  started=$SECONDS
  podman load --quiet --input "$ARCHIVE" >/dev/null
  # An OCI archive loads under the name it was saved with; make sure the tag is ours.
  podman image exists "$IMAGE" || { say "$ARCHIVE did not hold $IMAGE"; exit 1; }
  say "loaded in $((SECONDS - started)) s"
  exit 0
fi

mkdir -p "$CACHE_DIR"
work=$(mktemp -d "${TMPDIR:-/tmp}/live-upload-base.XXXXXX")
trap 'rm -rf "$work"' EXIT

say "building $IMAGE with mmdebstrap (Debian $SUITE: $PACKAGES); this takes about 5 minutes, once"
started=$SECONDS
# --variant=essential: Essential:yes packages plus the listed ones (no apt, no docs, man pages or locales).
mmdebstrap --variant=essential --include="$PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  "$SUITE" "$work/rootfs.tar" 2>&1 | while IFS= read -r line; do echo "  mmdebstrap: $line" >&2; done
say "root filesystem ready in $((SECONDS - started)) s ($(du -h "$work/rootfs.tar" | cut -f1)); importing"
podman import --quiet --change 'CMD ["/bin/bash"]' --change "LABEL live-upload.base-recipe=$RECIPE_KEY" "$work/rootfs.tar" "$IMAGE" >/dev/null
say "saving to $ARCHIVE for the next runs"
podman save --quiet --format oci-archive --output "$ARCHIVE.partial" "$IMAGE"
mv "$ARCHIVE.partial" "$ARCHIVE"
say "done in $((SECONDS - started)) s ($(du -h "$ARCHIVE" | cut -f1) cached)"
