#!/usr/bin/env bash
# Installs Debian's chromium for the headless dashboard tests (playwright-core drives it via executablePath).
exec bash "$(dirname "${BASH_SOURCE[0]}")/setup-debian-package.sh" /usr/bin/chromium chromium fonts-dejavu-core
