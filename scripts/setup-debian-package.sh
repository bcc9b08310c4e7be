#!/usr/bin/env bash
# Installs Debian packages for a tool the tests need, unless the tool is already there (idempotent).
#   setup-debian-package.sh <path-or-command> <package>...
set -euo pipefail
tool="${1:?usage: setup-debian-package.sh <path-or-command> <package>...}"
shift
if [ -x "$tool" ] || command -v "$tool" >/dev/null 2>&1; then
  echo "$tool present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || { echo "$tool still missing after installing $*" >&2; exit 1; }
echo "$tool installed ($*)"
