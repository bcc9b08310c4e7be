# azd postdeploy hook (Windows): see postdeploy.sh for why this runs after deploy rather than at provision.
$ErrorActionPreference = 'Stop'
foreach ($name in 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'ORBITER_LAKE_ACCOUNT_NAME', 'EVENT_GRID_SYSTEM_TOPIC_NAME') {
  if (-not (Get-Item "env:$name" -ErrorAction SilentlyContinue)) { throw "missing $name (run through azd)" }
}

Write-Host "Waiting for the eventgrid_extension key of $env:AZURE_FUNCTION_APP_NAME ..."
$key = $null
for ($attempt = 1; $attempt -le 30 -and -not $key; $attempt++) {
  $key = az functionapp keys list -g $env:AZURE_RESOURCE_GROUP -n $env:AZURE_FUNCTION_APP_NAME --query "systemKeys.eventgrid_extension" -o tsv 2>$null
  if (-not $key) { Start-Sleep -Seconds 10 }
}
if (-not $key) { throw 'The eventgrid_extension key did not appear; is the landedBlob function deployed? Re-run: azd hooks run postdeploy' }

$lakeId = az storage account show -g $env:AZURE_RESOURCE_GROUP -n $env:ORBITER_LAKE_ACCOUNT_NAME --query id -o tsv

az deployment group create `
  --resource-group $env:AZURE_RESOURCE_GROUP `
  --name blob-event-subscription `
  --template-file (Join-Path $PSScriptRoot '../app/blob-event-subscription.bicep') `
  --parameters systemTopicName=$env:EVENT_GRID_SYSTEM_TOPIC_NAME subscriptionName=raw-to-landedBlob `
    functionAppName=$env:AZURE_FUNCTION_APP_NAME functionName=landedBlob containerName=raw `
    storageAccountId=$lakeId deadLetterContainerName=eventgrid-deadletter `
  --output none
if ($LASTEXITCODE -ne 0) { throw 'az deployment group create failed' }

azd env set ORBITER_BLOB_EVENTS_ENABLED true
Write-Host 'Event Grid subscription raw-to-landedBlob is in place.'
