#!/usr/bin/env bash
# The fault-injection suite (test/faults): kills and restarts the functions host, Azurite and the Service Bus
# emulator, and disturbs the Jobs API and NASA, then checks that every landed file ended in exactly one successful
# Databricks run or in a dead-letter queue with its reason. The harness compiles the killable processes into
# .orbiter/faults-build on first use. Two files run at once: most of the time is spent waiting on lock expiries,
# timeouts and polls, not on CPU. Extra arguments go to jest (e.g. a file name, or -t <test name>).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec npx jest --selectProjects faults --forceExit --maxWorkers=2 --testTimeout=300000 "$@"
