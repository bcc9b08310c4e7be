#!/usr/bin/env bash
# The fault-injection suite (test/faults): kills and restarts the functions host, Azurite and the Service Bus
# emulator, and disturbs the Jobs API and NASA, then checks that every landed file ended in exactly one successful
# Databricks run or in a dead-letter queue with its reason. The harness compiles the killable processes into
# .orbiter/faults-build on first use. Two files run at once: most of the time is spent waiting on lock expiries,
# timeouts and polls, not on CPU. Extra arguments go to jest (e.g. a file name, or -t <test name>).
#
#   --repeat N   run the matrix N times and print, per scenario: repetitions passed/failed, files, lost, duplicated
#   --stress     while it runs, load every core with stress-ng (Debian's, installed by scripts/setup-stress.sh); FAULTS_STRESS_LOAD sets
#                the per-core load in percent (default 80)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

repeat=0
stress=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat="${2:?--repeat needs a count}"; shift 2 ;;
    --repeat=*) repeat="${1#--repeat=}"; shift ;;
    --stress) stress=1; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ "$repeat" = 0 ] && [ "$stress" = 0 ]; then
  exec npx jest --selectProjects faults --forceExit --maxWorkers=2 --testTimeout=300000 "${args[@]}"
fi
[ "$repeat" -ge 1 ] 2>/dev/null || { echo "--repeat wants a positive count, got '$repeat'" >&2; exit 2; }

out="$(mktemp -d "${TMPDIR:-/tmp}/orbiter-faults-repeat-XXXXXX")"
stress_pid=""
cleanup() { [ -n "$stress_pid" ] && kill "$stress_pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
if [ "$stress" = 1 ]; then
  bash scripts/setup-stress.sh || { echo "stress-ng is missing and could not be installed (scripts/setup-stress.sh)" >&2; exit 2; }
  stress-ng --cpu "$(nproc)" --cpu-load "${FAULTS_STRESS_LOAD:-80}" --quiet &
  stress_pid=$!
  echo "stress-ng: $(nproc) workers at ${FAULTS_STRESS_LOAD:-80}% (pid $stress_pid)"
fi

status=0
for i in $(seq 1 "$repeat"); do
  echo "== repetition $i/$repeat"
  FAULTS_RESULTS="$out/figures-$i.jsonl" npx jest --selectProjects faults --forceExit --maxWorkers=2 --testTimeout=300000 \
    --json --outputFile="$out/jest-$i.json" "${args[@]}" >"$out/jest-$i.log" 2>&1 || status=1
  grep -E '^Tests:' "$out/jest-$i.log" | tail -n 1 || true
done
node scripts/faults-summary.mjs "$out" "$repeat"
echo "logs and figures: $out"
exit $status
