#!/bin/sh
# azd postdeploy hook: create (or refresh) the Event Grid subscription that feeds the `landedBlob` Event Grid trigger.
# It must run after the code is deployed: the webhook URL carries the host's eventgrid_extension system key, which exists
# only once the host has loaded an Event Grid trigger, and Event Grid validates the endpoint when the subscription is made.
# Inputs come from the azd environment (main.bicep outputs), which azd exports to hooks.
set -eu

: "${AZURE_RESOURCE_GROUP:?run through azd (missing AZURE_RESOURCE_GROUP)}"
: "${AZURE_FUNCTION_APP_NAME:?missing AZURE_FUNCTION_APP_NAME}"
: "${ORBITER_LAKE_ACCOUNT_NAME:?missing ORBITER_LAKE_ACCOUNT_NAME}"
: "${EVENT_GRID_SYSTEM_TOPIC_NAME:?missing EVENT_GRID_SYSTEM_TOPIC_NAME}"

here=$(cd "$(dirname "$0")" && pwd)

# Poll until the host has registered the blob extension (it does so on first start after deploy).
echo "Waiting for the eventgrid_extension key of $AZURE_FUNCTION_APP_NAME ..."
attempt=0
until key=$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.eventgrid_extension" -o tsv 2>/dev/null) && [ -n "$key" ]; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "The eventgrid_extension key did not appear; is the landedBlob function deployed? Re-run: azd hooks run postdeploy" >&2
    exit 1
  fi
  sleep 10
done

lake_id=$(az storage account show -g "$AZURE_RESOURCE_GROUP" -n "$ORBITER_LAKE_ACCOUNT_NAME" --query id -o tsv)

# Same module and parameter values as main.bicep's blobEventSubscription (test/unit/infra checks they agree).
az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name blob-event-subscription \
  --template-file "$here/../app/blob-event-subscription.bicep" \
  --parameters \
    systemTopicName="$EVENT_GRID_SYSTEM_TOPIC_NAME" \
    subscriptionName=raw-to-landedBlob \
    functionAppName="$AZURE_FUNCTION_APP_NAME" \
    functionName=landedBlob \
    containerName=raw \
    storageAccountId="$lake_id" \
    deadLetterContainerName=eventgrid-deadletter \
  --output none

# From now on `azd provision` declares the subscription itself (enableBlobEventSubscription).
azd env set ORBITER_BLOB_EVENTS_ENABLED true
echo "Event Grid subscription raw-to-landedBlob is in place."
