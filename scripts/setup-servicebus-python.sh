#!/usr/bin/env bash
# Creates .orbiter/venv-servicebus with the pinned official Python Service Bus SDK for the emulator's conformance
# suite (its own venv: the shared .venv stays Spark-only). Idempotent: skips when the pins have not changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.orbiter/venv-servicebus"
REQ="$ROOT/packages/servicebus-emulator/conformance/python/requirements.txt"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then exit 0; fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
