#!/usr/bin/env bash
# Prints the secrets compose.yaml needs, freshly random, as a .env file:
#   bash scripts/container/compose-env.sh > .env && chmod 600 .env
# Keep the file: TOKEN_ENCRYPTION_KEYS opens the linked accounts' tokens sealed with it, and a new
# UPLOAD_TOKEN_SECRET invalidates the upload grants handed out. Never commit it.
set -euo pipefail

random() { head -c "$1" /dev/urandom | base64 | tr -d '\n/+=' | cut -c1-"$2"; }

cat <<ENV
# live-upload compose secrets, made $(date -u +%Y-%m-%dT%H:%MZ) by scripts/container/compose-env.sh
TWITCH_EVENTSUB_SECRET=$(random 48 48)
ADMIN_TOKEN=$(random 48 40)
UPLOAD_TOKEN_SECRET=$(random 64 64)
TOKEN_ENCRYPTION_KEYS=k1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')
MINIO_ROOT_USER=live-upload-admin
MINIO_ROOT_PASSWORD=$(random 48 40)
S3_ACCESS_KEY_ID=live-upload-server
S3_SECRET_ACCESS_KEY=$(random 48 40)
# Where viewers reach the entry point (links in answers, the default return_to origin).
PUBLIC_URL=http://localhost:8080
ENV
