#!/usr/bin/env bash
# Lint and format gates, run by `npm test` (and so by CI): ESLint (typescript-eslint, type-checked), Prettier, no
# import cycles (dpdm) over TypeScript; ruff check + ruff format over the notebooks. `--fix` applies the fixes.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
status=0
if [ "${1:-}" = "--fix" ]; then
  npx eslint . --fix; npx prettier --write . >/dev/null
  (cd notebooks && ../.venv/bin/ruff check --fix . ../packages/databricks-emulator/runner && ../.venv/bin/ruff format . ../packages/databricks-emulator/runner)
  .venv/bin/ruff check --fix test/conformance; .venv/bin/ruff format test/conformance
fi
echo "-- eslint"; npx eslint . --max-warnings 0 || status=1
echo "-- prettier"; npx prettier --check . --log-level warn || status=1
echo "-- import cycles"
npx dpdm --no-warning --no-tree -T --exit-code circular:1 --tsconfig tsconfig.check.json \
  'functions/**/*.ts' 'shared/**/*.ts' 'packages/*/src/**/*.ts' 'bench/**/*.ts' 'test/**/*.ts' 'packages/*/test/**/*.ts' | tail -n 2 || status=1
echo "-- ruff"
if [ -x .venv/bin/ruff ]; then
  (cd notebooks && ../.venv/bin/ruff check . && ../.venv/bin/ruff format --check .) || status=1
  # The Databricks emulator's Python runner follows the notebooks' settings.
  (cd notebooks && ../.venv/bin/ruff check ../packages/databricks-emulator/runner && ../.venv/bin/ruff format --check ../packages/databricks-emulator/runner) || status=1
  (cd test/conformance && ../../.venv/bin/ruff check . && ../../.venv/bin/ruff format --check .) || status=1
else
  echo "ruff missing: run scripts/setup-python.sh"; status=1
fi
[ "$status" -eq 0 ] && echo "lint: ok" || echo "lint: FAILED"
exit $status
