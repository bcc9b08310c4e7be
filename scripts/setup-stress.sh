#!/usr/bin/env bash
# Installs Debian's stress-ng for `npm run test:faults -- --stress` (the fault matrix under CPU load).
# Idempotent: does nothing when stress-ng is already on the PATH.
set -euo pipefail
if command -v stress-ng >/dev/null; then
  echo "stress-ng present: $(stress-ng --version 2>/dev/null | head -n 1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
stress-ng --version | head -n 1
