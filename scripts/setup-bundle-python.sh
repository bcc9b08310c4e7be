#!/usr/bin/env bash
# The Python environment `databricks bundle deploy` builds the notebooks' wheel in (artifacts.orbiter_notebooks in
# notebooks/databricks.yml runs `python3 -m build --wheel --no-isolation`): a small venv with build, setuptools and
# wheel in .orbiter/bundle-python. Callers put its bin/ first on PATH for the CLI. Idempotent; prints the bin dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.orbiter/bundle-python"
REQUIREMENTS="build>=1.2,<2 setuptools>=68 wheel>=0.42"
STAMP="$VENV/.orbiter-requirements"

if [[ -x "$VENV/bin/python3" && -f "$STAMP" && "$(cat "$STAMP")" == "$REQUIREMENTS" ]]; then
  echo "$VENV/bin"
  exit 0
fi
PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || { echo "setup-bundle-python: $PY not found (set PYTHON=...)" >&2; exit 1; }
mkdir -p "$ROOT/.orbiter"
exec 9>"$ROOT/.orbiter/bundle-python.lock"
flock 9
if [[ -x "$VENV/bin/python3" && -f "$STAMP" && "$(cat "$STAMP")" == "$REQUIREMENTS" ]]; then
  echo "$VENV/bin"
  exit 0
fi
echo "setup-bundle-python: creating $VENV ($REQUIREMENTS)" >&2
"$PY" -m venv "$VENV" >&2
# shellcheck disable=SC2086 # the requirement list is split on purpose
"$VENV/bin/python3" -m pip install --quiet --disable-pip-version-check $REQUIREMENTS >&2
echo "$REQUIREMENTS" >"$STAMP"
echo "$VENV/bin"
