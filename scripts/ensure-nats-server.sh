#!/usr/bin/env bash
# Installs nats-server (Debian package) when it is missing; the remote pool's tests start it.
set -euo pipefail
if [ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1; then
    exit 0
fi
echo "nats-server is missing: installing the Debian package nats-server" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
