#!/usr/bin/env bash
# Makes sure the real parts the tests run against are on this machine: nats-server (the bus),
# ffmpeg/ffprobe (media), chromium (browser tests). Installs them with apt when it can (root on
# Debian); otherwise stops with one message naming what to install.
set -euo pipefail

missing=()
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || missing+=(ffmpeg)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages the tests need: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" fonts-dejavu-core >&2
  exit 0
fi

echo "npm test needs these system packages, which are missing: ${missing[*]}." >&2
echo "Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}), or set CHROMIUM_PATH to a Chromium binary, then run npm test again." >&2
exit 1
