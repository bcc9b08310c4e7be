#!/usr/bin/env bash
# Creates the notebooks' Python environment: .venv (Python 3.11) from notebooks/requirements.txt, and the
# Delta Lake jars in .orbiter/jars/ so Spark starts without an Ivy download (spark.jars, not spark.jars.packages).
# Idempotent: a re-run with unchanged requirements and jars present does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQ="$ROOT/notebooks/requirements.txt"
JARS="$ROOT/.orbiter/jars"
# Must match delta-spark in notebooks/requirements.txt (checked below).
DELTA_VERSION="4.0.1"
SCALA_BINARY="2.13"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

log() { echo "[setup-python] $*"; }

if ! grep -qx "delta-spark==${DELTA_VERSION}" "$REQ"; then
  echo "[setup-python] DELTA_VERSION=${DELTA_VERSION} does not match delta-spark in $REQ" >&2
  exit 1
fi

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# --- venv ---------------------------------------------------------------------------------------------------
REQ_HASH="$(sha256sum "$REQ" | cut -d' ' -f1)"
STAMP="$VENV/.orbiter-requirements.sha256"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_HASH" ]; then
  log ".venv up to date"
else
  PY="$(pick_python)" || { echo "[setup-python] Python 3.11 not found (set PYTHON=...)" >&2; exit 1; }
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating .venv with $PY"
    "$PY" -m venv "$VENV"
  fi
  log "installing $REQ"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$REQ_HASH" >"$STAMP"
fi

# --- Delta jars ---------------------------------------------------------------------------------------------
mkdir -p "$JARS"
need_jar() { [ ! -s "$JARS/$1-${DELTA_VERSION}.jar" ]; }
for artifact in "delta-spark_${SCALA_BINARY}" "delta-storage"; do
  if need_jar "$artifact"; then
    command -v mvn >/dev/null 2>&1 || { echo "[setup-python] mvn not found: install Maven (apt-get install maven)" >&2; exit 1; }
    log "fetching io.delta:${artifact}:${DELTA_VERSION}"
    # Output is shown only when Maven fails (it is noisy otherwise).
    if ! out="$(mvn --batch-mode --quiet --no-transfer-progress -Dstyle.color=never "${DEP_PLUGIN}:copy" \
      -Dartifact="io.delta:${artifact}:${DELTA_VERSION}:jar" \
      -DoutputDirectory="$JARS" -Dmdep.overWriteReleases=false 2>&1)"; then
      echo "$out" >&2
      echo "[setup-python] Maven could not fetch io.delta:${artifact}:${DELTA_VERSION}" >&2
      exit 1
    fi
    need_jar "$artifact" && { echo "[setup-python] $artifact jar missing after Maven copy" >&2; exit 1; }
  fi
done
log "jars: $(ls "$JARS" | tr '\n' ' ')"

# --- class-data archive (local Spark starts in about half the time; made once per JDK and jar set) ----------
if [ "${ORBITER_SPARK_CLASS_ARCHIVE:-}" = "off" ]; then
  log "class archive: off (ORBITER_SPARK_CLASS_ARCHIVE=off)"
elif ! out="$("$VENV/bin/python" "$ROOT/packages/databricks-emulator/runner/class_archive.py" 2>&1)"; then
  echo "$out" | tail -n 20 >&2
  log "class archive not made (above): local Spark starts without it, a few seconds slower"
else
  log "$(echo "$out" | tail -n 1)"
fi
log "done"
