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
  JAVA_DIR="$ROOT/packages/servicebus-emulator/conformance/java"
  rm -rf "$JAVA_DIR/target/surefire-reports"
  (cd "$JAVA_DIR" && mvn -B -q test -Demulator.main="$ROOT/packages/servicebus-emulator/dist/main.js") 2>&1 |
    tee "$ROOT/.orbiter/test-results/servicebus-java.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  # mvn -q hides Surefire's summary: count from its reports and print the plain closing line.
  read -r run failed < <(cat "$JAVA_DIR"/target/surefire-reports/TEST-*.xml 2>/dev/null | node -e '
    const x = require("fs").readFileSync(0, "utf8"); let t = 0, f = 0;
    for (const m of x.matchAll(/<testsuite [^>]*>/g)) {
      const a = (k) => Number((m[0].match(new RegExp(` ${k}="(\\d+)"`)) || [0, 0])[1]);
      t += a("tests") - a("skipped"); f += a("failures") + a("errors");
    }
    console.log(t, f);')
  [ "${run:-0}" -gt 0 ] || { status=1; failed=$(( ${failed:-0} + 1 )); }
  echo "servicebus-java: $(( ${run:-0} - ${failed:-0} )) passed, ${failed:-0} failed" | tee -a "$ROOT/.orbiter/test-results/servicebus-java.log"
fi
exit $status
