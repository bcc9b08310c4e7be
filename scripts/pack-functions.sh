#!/usr/bin/env bash
# Stages the deployable Function App in one folder (default .orbiter/functions-app): host.json, config/, the compiled
# app (dist/functions, dist/shared), package.json without the workspaces and dev tools, and the production
# node_modules of the app alone (`npm ci --omit=dev --workspaces=false`). The tools under packages/ never ship.
# azd deploys this folder (azure.yaml); `func azure functionapp publish` works from it too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/.orbiter/functions-app}"
cd "$ROOT"
npx tsc -b tsconfig.json
rm -rf "$OUT"
mkdir -p "$OUT/dist"
cp -R dist/functions dist/shared "$OUT/dist/"
cp -R config host.json package-lock.json "$OUT/"
node -e '
  const p = require("./package.json");
  delete p.devDependencies; delete p.scripts; delete p.exports; delete p.workspaces;
  process.stdout.write(JSON.stringify(p, null, 2) + "\n");
' >"$OUT/package.json"
(cd "$OUT" && npm ci --omit=dev --workspaces=false --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null)
echo "$OUT"
