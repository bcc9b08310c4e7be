#!/usr/bin/env bash
# The whole test suite: type check, jest (unit + integration against real Azurite and the local emulators), the fault
# suite (test/faults: killed host, restarted peers, Jobs API and NASA faults, poison messages), and the notebooks'
# pytest suite on real PySpark + Delta. Ends with one "N passed, N failed" line over everything.
# It also runs the Databricks conformance suite (databricks-sdk against the local emulator, scripts/test-conformance.sh).
# ORBITER_SKIP_FAULTS=1 / ORBITER_SKIP_PYTHON=1 / ORBITER_SKIP_CONFORMANCE=1 leave those parts out.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .orbiter/test-results
status=0

echo "== type check"
npx tsc -p tsconfig.check.json || status=1

# The Databricks emulator's real-runner tests and the notebooks need the pinned Python env (idempotent, fast when done).
if [ "${ORBITER_SKIP_PYTHON:-0}" != "1" ]; then
  echo "== python env"
  bash scripts/setup-python.sh || status=1
fi

# Lint, format and import-cycle gates (ruff needs the Python env above).
echo "== lint"
bash scripts/lint.sh || status=1

# The official Databricks CLI (built from its Go module once per machine, ~4 min of CPU) and the Python environment
# its `bundle deploy` builds the notebooks' wheel in: the CLI conformance suite and `npm start` use both.
echo "== databricks cli"
bash scripts/setup-databricks-cli.sh || status=1
bash scripts/setup-bundle-python.sh >/dev/null || status=1

# The dashboard test drives Debian's headless Chromium (installed once, idempotent).
echo "== browser"
bash scripts/setup-browser.sh || status=1

echo "== jest"
npx jest --ci --forceExit --json --outputFile=.orbiter/test-results/jest.json "$@" || status=1
read -r js_pass js_fail js_skip < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(".orbiter/test-results/jest.json", "utf8"));
  console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites || 0), r.numPendingTests);
' 2>/dev/null || echo "0 1 0")

fa_pass=0; fa_fail=0; fa_skip=0
if [ "${ORBITER_SKIP_FAULTS:-0}" != "1" ]; then
  echo "== jest (faults)"
  # A settling wait extends while the system makes progress (up to 3 min on a busy machine), beyond jest's default.
  npx jest --selectProjects faults --ci --forceExit --maxWorkers=2 --testTimeout=300000 --json --outputFile=.orbiter/test-results/faults.json || status=1
  read -r fa_pass fa_fail fa_skip < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(".orbiter/test-results/faults.json", "utf8"));
    console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites || 0), r.numPendingTests);
  ' 2>/dev/null || echo "0 1 0")
fi

py_pass=0; py_fail=0; py_skip=0
if [ -x scripts/test-python.sh ] && [ "${ORBITER_SKIP_PYTHON:-0}" != "1" ]; then
  echo "== pytest (notebooks)"
  scripts/test-python.sh 2>&1 | tee .orbiter/test-results/pytest.log
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  last=$(grep -E '[0-9]+ (passed|failed|error)' .orbiter/test-results/pytest.log | tail -n 1)
  py_pass=$(echo "$last" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
  py_fail=$(( $(echo "$last" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0) + $(echo "$last" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+' || echo 0) ))
  py_skip=$(echo "$last" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
  [ -n "$last" ] || { echo "pytest printed no result line"; status=1; }
fi

# Databricks' own Python SDK against the local Databricks emulator (own venv; ORBITER_SKIP_PYTHON=1 leaves it out too).
cf_pass=0; cf_fail=0; cf_skip=0
if [ "${ORBITER_SKIP_PYTHON:-0}" != "1" ] && [ "${ORBITER_SKIP_CONFORMANCE:-0}" != "1" ]; then
  echo "== pytest (Databricks SDK conformance)"
  bash scripts/test-conformance.sh 2>&1 | tee .orbiter/test-results/conformance.log
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  last=$(grep -E '[0-9]+ (passed|failed|error)' .orbiter/test-results/conformance.log | tail -n 1)
  cf_pass=$(echo "$last" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
  cf_fail=$(( $(echo "$last" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0) + $(echo "$last" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+' || echo 0) ))
  cf_skip=$(echo "$last" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
  [ -n "$last" ] || { echo "conformance pytest printed no result line"; status=1; cf_fail=1; }
fi

# The Service Bus emulator against Microsoft's Python and Java SDKs (own venv; Maven cache in ~/.m2).
sbpy_pass=0; sbpy_fail=0; sbpy_skip=0; sbj_pass=0; sbj_fail=0; sbj_skip=0
if [ "${ORBITER_SKIP_SERVICEBUS_SDKS:-0}" != "1" ]; then
  echo "== servicebus SDK conformance (python)"
  bash scripts/test-servicebus-sdks.sh python || status=1
  last=$(grep -E '[0-9]+ (passed|failed|error)' .orbiter/test-results/servicebus-python.log | tail -n 1)
  sbpy_pass=$(echo "$last" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
  sbpy_fail=$(( $(echo "$last" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0) + $(echo "$last" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+' || echo 0) ))
  sbpy_skip=$(echo "$last" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || echo 0)
  [ -n "$last" ] || { echo "servicebus python suite printed no result line"; status=1; sbpy_fail=1; }
  echo "== servicebus SDK conformance (java)"
  bash scripts/test-servicebus-sdks.sh java || status=1
  # Maven may leave colour codes on the same line as the summary: match it anywhere in the line.
  last=$(grep -oE 'servicebus-java: [0-9]+ passed, [0-9]+ failed' .orbiter/test-results/servicebus-java.log | tail -n 1)
  sbj_pass=$(echo "$last" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
  sbj_fail=$(echo "$last" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 1)
  [ -n "$last" ] || { echo "servicebus java suite printed no result line"; status=1; sbj_fail=1; }
fi

passed=$(( js_pass + fa_pass + py_pass + cf_pass + sbpy_pass + sbj_pass )); failed=$(( js_fail + fa_fail + py_fail + cf_fail + sbpy_fail + sbj_fail ))
skipped=$(( js_skip + fa_skip + py_skip + cf_skip + sbpy_skip + sbj_skip ))
[ "$failed" -eq 0 ] || status=1
[ "$passed" -gt 0 ] || status=1
echo "jest: ${js_pass} passed, ${js_fail} failed; faults: ${fa_pass} passed, ${fa_fail} failed; pytest: ${py_pass} passed, ${py_fail} failed;" \
  "conformance: ${cf_pass} passed, ${cf_fail} failed; servicebus-python: ${sbpy_pass} passed, ${sbpy_fail} failed; servicebus-java: ${sbj_pass} passed, ${sbj_fail} failed"
echo "total: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
