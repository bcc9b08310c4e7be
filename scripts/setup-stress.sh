#!/usr/bin/env bash
# Installs Debian's stress-ng for `npm run test:faults -- --stress` (the fault matrix under CPU load).
exec bash "$(dirname "${BASH_SOURCE[0]}")/setup-debian-package.sh" stress-ng stress-ng
