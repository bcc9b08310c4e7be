#!/usr/bin/env bash
# Connects an Orbiter deployment to its Databricks workspace, after `azd up` and before `databricks bundle deploy`:
#   1. registers the Function App's user-assigned managed identity as a workspace service principal, so the app can
#      call the Jobs API with Entra ID tokens (DATABRICKS_AUTH=entra; no PAT is stored anywhere);
#   2. (Unity Catalog) creates a storage credential from the access connector and one external location per lake
#      zone, and lets the principal the jobs run as read and write them;
#   3. optionally creates the notification destination the jobs call on completion (ORBITER_COMPLETION_WEBHOOK_URL).
# Every step checks first and is safe to re-run. Needs: az (signed in as a workspace admin — the workspace creator
# is one), the Databricks CLI (>= 0.250), jq. Values come from the azd environment (main.bicep outputs).
#
# Environment (all optional when run from an azd project):
#   ORBITER_SKIP_UNITY_CATALOG=1         skip step 2 (e.g. a workspace without a Unity Catalog metastore)
#   ORBITER_JOBS_PRINCIPAL=<user|sp>     who the jobs run as (default: the signed-in user, i.e. the bundle deployer)
#   ORBITER_COMPLETION_WEBHOOK_URL=<url> Orbiter's completion endpoint, with its function key (?code=...)
set -euo pipefail

if command -v azd >/dev/null 2>&1 && azd env get-values >/dev/null 2>&1; then
  # azd prints KEY="value" lines; export them without overriding what the caller set explicitly.
  while IFS='=' read -r k v; do
    v="${v#\"}"; v="${v%\"}"
    if [ -n "$k" ] && [ -z "${!k:-}" ]; then export "$k=$v"; fi
  done < <(azd env get-values)
fi

: "${DATABRICKS_HOST:?set DATABRICKS_HOST (azd output) or run inside the azd project}"
: "${FUNCTION_IDENTITY_CLIENT_ID:?set FUNCTION_IDENTITY_CLIENT_ID (azd output)}"
: "${ORBITER_LAKE_ACCOUNT_NAME:?set ORBITER_LAKE_ACCOUNT_NAME (azd output)}"
export DATABRICKS_HOST
export DATABRICKS_AUTH_TYPE="${DATABRICKS_AUTH_TYPE:-azure-cli}"

zones=(raw quarantine events bronze silver gold checkpoints) # shared/names.ts Containers
sp_name="orbiter-${AZURE_ENV_NAME:-app}"

echo "== 1. Service principal for the Function App identity ($FUNCTION_IDENTITY_CLIENT_ID)"
sp_id=$(databricks service-principals list --filter "applicationId eq ${FUNCTION_IDENTITY_CLIENT_ID}" -o json | jq -r '.[0].id // empty')
if [ -z "$sp_id" ]; then
  sp_id=$(databricks service-principals create -o json --json "$(jq -n \
    --arg app "$FUNCTION_IDENTITY_CLIENT_ID" --arg name "$sp_name" \
    '{applicationId: $app, displayName: $name, active: true, entitlements: [{value: "workspace-access"}]}')" | jq -r '.id')
  echo "created service principal $sp_name (id $sp_id)"
else
  echo "service principal already registered (id $sp_id)"
fi
# Job permissions (CAN_MANAGE_RUN) are granted by the bundle itself: var.orbiter_service_principal.

if [ "${ORBITER_SKIP_UNITY_CATALOG:-0}" != "1" ]; then
  : "${DATABRICKS_ACCESS_CONNECTOR_ID:?set DATABRICKS_ACCESS_CONNECTOR_ID (azd output)}"
  echo "== 2. Unity Catalog storage credential and external locations"
  credential="orbiter-lake-${AZURE_ENV_NAME:-app}"
  if ! databricks storage-credentials get "$credential" >/dev/null 2>&1; then
    databricks storage-credentials create --json "$(jq -n --arg name "$credential" --arg ac "$DATABRICKS_ACCESS_CONNECTOR_ID" \
      '{name: $name, azure_managed_identity: {access_connector_id: $ac}, comment: "Orbiter lake (access connector)"}')" >/dev/null
    echo "created storage credential $credential"
  fi
  principal="${ORBITER_JOBS_PRINCIPAL:-$(databricks current-user me -o json | jq -r '.userName')}"
  for zone in "${zones[@]}"; do
    location="orbiter-${AZURE_ENV_NAME:-app}-${zone}"
    url="abfss://${zone}@${ORBITER_LAKE_ACCOUNT_NAME}.dfs.core.windows.net/"
    if ! databricks external-locations get "$location" >/dev/null 2>&1; then
      databricks external-locations create "$location" "$url" "$credential" >/dev/null
      echo "created external location $location -> $url"
    fi
    databricks grants update external_location "$location" --json "$(jq -n --arg p "$principal" \
      '{changes: [{principal: $p, add: ["READ_FILES", "WRITE_FILES"]}]}')" >/dev/null
  done
  echo "granted READ_FILES, WRITE_FILES on the lake zones to $principal"
fi

if [ -n "${ORBITER_COMPLETION_WEBHOOK_URL:-}" ]; then
  echo "== 3. Notification destination for job completion"
  display="orbiter-completion-${AZURE_ENV_NAME:-app}"
  dest_id=$(databricks notification-destinations list -o json | jq -r --arg d "$display" '[.[] | select(.display_name == $d)][0].id // empty')
  if [ -z "$dest_id" ]; then
    dest_id=$(databricks notification-destinations create -o json --json "$(jq -n --arg d "$display" --arg u "$ORBITER_COMPLETION_WEBHOOK_URL" \
      '{display_name: $d, config: {generic_webhook: {url: $u}}}')" | jq -r '.id')
    echo "created notification destination $display"
  fi
  if command -v azd >/dev/null 2>&1; then azd env set DATABRICKS_COMPLETION_WEBHOOK_ID "$dest_id" >/dev/null 2>&1 || true; fi
  echo "completion webhook destination id: $dest_id"
fi

cat <<MSG

Done. Deploy the jobs with:
  cd notebooks
  export BUNDLE_VAR_lake_root='abfss://{zone}@${ORBITER_LAKE_ACCOUNT_NAME}.dfs.core.windows.net'
  export BUNDLE_VAR_orbiter_service_principal='${FUNCTION_IDENTITY_CLIENT_ID}'
  export BUNDLE_VAR_completion_webhook_id='${dest_id:-<notification destination id>}'
  databricks bundle deploy -t prod
MSG
