#!/usr/bin/env bash
# Runs the notebooks' pytest suite on local Spark + Delta (sets up .venv and the Delta jars first when missing).
# Extra arguments go to pytest. pytest's exit code 5 ("no tests collected") is an error here too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup-python.sh"

cd "$ROOT"
set +e
"$ROOT/.venv/bin/python" -m pytest "$ROOT/notebooks/tests" -p no:cacheprovider -q -rs --durations=10 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "[test-python] pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
