#!/usr/bin/env bash
# Makes sure the tools that build and run the image are on this machine: podman and buildah (the
# engine), runc (the runtime these machines can use: crun fails on a cgroup v1 hybrid host),
# mmdebstrap (the Debian base, since no image registry is reachable here) and podman-compose
# (to parse compose.yaml). Installs them with apt when it can (root on Debian); otherwise prints
# one line saying why not and exits 1, so the image test can fall back to the process contract.
set -euo pipefail

missing=()
for tool in podman buildah runc mmdebstrap podman-compose; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the container tools the image test needs: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq >&2 && apt-get install -y -qq podman buildah runc mmdebstrap podman-compose >&2; }; then
    echo "could not install the container tools with apt (${missing[*]}): see the apt output above" >&2
    exit 1
  fi
  exit 0
fi

echo "the image test needs these tools, which are missing and cannot be installed here (not root on Debian): ${missing[*]}" >&2
exit 1
