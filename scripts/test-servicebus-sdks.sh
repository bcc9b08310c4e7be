#!/usr/bin/env bash
# The Service Bus emulator's conformance suites with Microsoft's official SDKs, unchanged: Python azure-servicebus
# (sync and asyncio, own venv) and Java azure-messaging-servicebus (Maven; downloads cached in ~/.m2).
# Needs the emulator built (npm run build). Prints one "N passed, N failed" line per suite.
# Usage: scripts/test-servicebus-sdks.sh [python|java|all]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
which="${1:-all}"
status=0
mkdir -p "$ROOT/.orbiter/test-results"
# The suites start the emulator's CLI (dist/main.js); build it (incremental, quick when up to date).
(cd "$ROOT" && npx tsc -b packages/servicebus-emulator) || exit 1

if [ "$which" = all ] || [ "$which" = python ]; then
  bash "$ROOT/scripts/setup-servicebus-python.sh" || status=1
  (cd "$ROOT" && .orbiter/venv-servicebus/bin/python -m pytest packages/servicebus-emulator/conformance/python -q -p no:cacheprovider -rs) 2>&1 |
    tee "$ROOT/.orbiter/test-results/servicebus-python.log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || status=1
  [ "$rc" -ne 5 ] || echo "[servicebus-python] no tests collected" >&2
fi

if [ "$which" = all ] || [ "$which" = java ]; then
  (cd "$ROOT/packages/servicebus-emulator/conformance/java" && mvn -B -q test -Demulator.main="$ROOT/packages/servicebus-emulator/dist/main.js") 2>&1 |
    tee "$ROOT/.orbiter/test-results/servicebus-java.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
exit $status
