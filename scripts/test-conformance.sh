#!/usr/bin/env bash
# Conformance suite: Databricks' own Python SDK (databricks-sdk, pinned in test/conformance/databricks/requirements.txt,
# in its own venv .orbiter/venv-conformance) drives the local Databricks emulator it starts (dist/main.js, port 0).
# Prints pytest's result line; the exit status is pytest's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup-conformance-python.sh
# The suite runs the built emulator (tsc -b is incremental: quick when nothing changed).
npx tsc -b packages/databricks-emulator
cd test/conformance/databricks
exec "$ROOT/.orbiter/venv-conformance/bin/python" -m pytest -q -p no:cacheprovider "$@" .
