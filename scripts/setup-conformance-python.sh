#!/usr/bin/env bash
# Creates the Databricks conformance suite's own Python environment (.orbiter/venv-conformance) with the official
# databricks-sdk pinned in test/conformance/databricks/requirements.txt. Kept apart from .venv (the notebooks' env)
# so the SDK's dependencies never change what notebooks run with. Idempotent: unchanged requirements → no work.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.orbiter/venv-conformance"
REQ="$ROOT/test/conformance/databricks/requirements.txt"
STAMP="$VENV/.orbiter-requirements.sha256"
log() { echo "[setup-conformance-python] $*"; }

REQ_HASH="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_HASH" ]; then
  log "up to date"
  exit 0
fi
PY=""
for candidate in "${PYTHON:-}" python3.11 python3; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
    PY="$candidate"
    break
  fi
done
[ -n "$PY" ] || { echo "[setup-conformance-python] Python >= 3.10 not found (set PYTHON=...)" >&2; exit 1; }
mkdir -p "$ROOT/.orbiter"
[ -x "$VENV/bin/python" ] || { log "creating $VENV with $PY"; "$PY" -m venv "$VENV"; }
log "installing $REQ"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
echo "$REQ_HASH" >"$STAMP"
log "done"
