// Orbiter on Azure: the lake, Service Bus, the Function App (Flex Consumption), monitoring and alerts, Key Vault and
// the Databricks workspace. Deployed by `azd up` (azure.yaml); docs/deploy.md walks through it.
// Names that the code also uses come from shared/names.ts; test/unit/infra checks this file agrees with it and with
// the config schema (shared/config.ts), since the Bicep compiler cannot run in Orbiter's CI.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the resource token and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Primary location for all resources.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group name; empty = rg-<environmentName>.')
param resourceGroupName string = ''

// ---- Lake ----
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param lakeSkuName string = 'Standard_LRS'

@minValue(1)
@description('Raw landings move to the Cool tier after this many days (cost lever).')
param rawCoolAfterDays int = 30

@minValue(0)
@description('Raw landings move to the Archive tier after this many days; 0 = never.')
param rawArchiveAfterDays int = 0

@minValue(0)
@description('Quarantined payloads are deleted after this many days; 0 = kept.')
param quarantineDeleteAfterDays int = 90

// ---- Service Bus ----
@minValue(1)
@maxValue(2000)
@description('Deliveries of one message before it is dead-lettered.')
param serviceBusMaxDeliveryCount int = 10

@description('Duplicate detection window of run-requests (ISO 8601).')
param runRequestDuplicateWindow string = 'PT10M'

// ---- Function App ----
@allowed(['20', '22'])
param functionNodeVersion string = '22'

@minValue(1)
@maxValue(1000)
@description('Flex Consumption scale-out ceiling (cost lever).')
param functionMaximumInstanceCount int = 40

@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048

@description('Deploy the Event Grid subscription that feeds the landedBlob Event Grid trigger. Needs the code deployed first (the eventgrid_extension key exists only then): the azure.yaml postdeploy hook turns it on.')
param enableBlobEventSubscription bool = false

// ---- App configuration (shared/config.ts; defaults mirror the schema's) ----
@secure()
@description('api.nasa.gov key, stored in Key Vault (main.parameters.json reads NASA_API_KEY from the azd environment).')
param nasaApiKey string

@allowed(['live', 'replay'])
param nasaMode string = 'live'
param nasaApiBaseUrl string = 'https://api.nasa.gov'
param epicApiBaseUrl string = 'https://epic.gsfc.nasa.gov/api'
param eonetApiBaseUrl string = 'https://eonet.gsfc.nasa.gov/api/v3'
param jplSsdApiBaseUrl string = 'https://ssd-api.jpl.nasa.gov'
param meteoritesApiUrl string = 'https://data.nasa.gov/resource/gh4g-9sfh.json'
param cmrApiBaseUrl string = 'https://cmr.earthdata.nasa.gov/search'
param cmrCollectionShortName string = 'MYD021KM'
param cmrPageSize string = '500'
param meteoritesPageSize string = '1000'

@description('6-field NCRONTAB schedule of the ingestion timer.')
param ingestSchedule string = '0 0 */6 * * *'

@description('First window start for a source without a watermark (YYYY-MM-DD); empty = 7 days ago.')
param ingestStartDate string = ''
@description('source=YYYY-MM-DD,…: first window start per source with no watermark (INGEST_START_DATES; empty: ingestStartDate for all)')
param ingestStartDates string = ''

@description('Comma-separated sources, or "all".')
param ingestSources string = 'all'
param ingestMaxWindowsPerRun string = '10'
param httpTimeoutMs string = '30000'
param httpMaxRetries string = '5'

@description('Runs one Run API caller may request per minute (RUN_API_QUOTA_PER_MINUTE; a backfill counts one per window)')
param runApiQuotaPerMinute string = '120'
@description('Hours an Idempotency-Key names the runs it first requested (RUN_API_IDEMPOTENCY_TTL_HOURS)')
param runApiIdempotencyTtlHours string = '24'
param jobCatalogPath string = 'config/job-catalog.json'

@description('Production deployment: Key Vault purge protection on (irreversible) and 90-day soft delete.')
param production bool = true

// ---- Run API authentication (Entra ID) ----
@description('Client id (application id) of the Run API app registration; its app roles are Runs.Read, Runs.Request, Runs.Operate.')
param apiClientId string

@description('Audience the Run API accepts in tokens (the app registration\'s application ID URI, e.g. api://orbiter-runs).')
param apiAudience string

// ---- Databricks ----
@allowed(['premium', 'standard'])
@description('Premium is needed for job webhooks to notification destinations, Unity Catalog and fine-grained permissions.')
param databricksPricingTier string = 'premium'

@description('Inject the workspace into its own VNet (no public IPs either way).')
param databricksVnetEnabled bool = false

// ---- Network ----
@description('Private-network option: a VNet with the Function App integrated (outbound) and private endpoints (with private DNS zones) for the lake (blob, dfs, table, queue), the host storage (blob, table, queue), Service Bus (Premium) and Key Vault; their public network access is off, and the lake\'s firewall denies everything but trusted services and the Databricks access connector. Inbound to the Function App stays public (Event Grid webhook; the Run API is behind Entra ID).')
param privateNetworking bool = false

// ---- Monitoring ----
@description('E-mail address the alert action group notifies; empty = none.')
param alertEmail string = ''

@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// Names shared with the code (shared/names.ts; test/unit/infra/bicep.test.ts checks they agree).
// The same containers by zone, for the container-scoped role assignments (app/rbac.bicep).
var zoneContainers = {
  raw: 'raw'
  quarantine: 'quarantine'
  events: 'events'
  bronze: 'bronze'
  silver: 'silver'
  gold: 'gold'
  checkpoints: 'checkpoints'
}
var lakeContainerNames = ['raw', 'quarantine', 'events', 'bronze', 'silver', 'gold', 'checkpoints']
var tableNames = ['OrbiterWatermarks', 'OrbiterRuns', 'OrbiterBlobReceipts', 'OrbiterBatches', 'OrbiterApiIdempotency']
var queueNames = {
  runRequests: 'run-requests'
  runStatus: 'run-status'
  runFailures: 'run-failures'
}
var topicName = 'run-events'
var topicSubscriptionNames = ['stream-consumer', 'monitor']
// The Event Grid trigger for landed blobs (functions/landedBlob.ts) and the container it watches.
var blobTriggerFunctionName = 'landedBlob'
var blobTriggerContainerName = 'raw'
// Infra-only container for Event Grid deliveries that exhausted their retries (not a lake zone).
var deadLetterContainerName = 'eventgrid-deadletter'
var nasaApiKeySecretName = 'nasa-api-key'
var serviceName = 'orbiter' // azure.yaml services key

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  project: 'orbiter'
}
var functionAppName = '${abbrs.webSitesFunctions}orbiter-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'

// The alert rules are defined once, in infra/alerts/alert-rules.json (shape: infra/alerts/README.md).
var alertDefinitions = loadJsonContent('alerts/alert-rules.json')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}orbiter-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module lake 'app/lake.bicep' = {
  name: 'lake'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}lake${resourceToken}'
    location: location
    tags: tags
    containerNames: lakeContainerNames
    tableNames: tableNames
    deadLetterContainerName: deadLetterContainerName
    skuName: lakeSkuName
    rawCoolAfterDays: rawCoolAfterDays
    rawArchiveAfterDays: rawArchiveAfterDays
    quarantineDeleteAfterDays: quarantineDeleteAfterDays
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    privateNetworking: privateNetworking
    accessConnectorId: databricks.outputs.accessConnectorId
  }
}

module hostStorage 'app/host-storage.bicep' = {
  name: 'host-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}func${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    privateNetworking: privateNetworking
  }
}

module serviceBus 'app/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: '${abbrs.serviceBusNamespaces}orbiter-${resourceToken}'
    location: location
    tags: tags
    queueNames: queueNames
    topicName: topicName
    topicSubscriptionNames: topicSubscriptionNames
    maxDeliveryCount: serviceBusMaxDeliveryCount
    duplicateDetectionWindow: runRequestDuplicateWindow
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    privateNetworking: privateNetworking
    // Private endpoints exist on Premium only.
    skuName: privateNetworking ? 'Premium' : 'Standard'
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    nasaApiKey: nasaApiKey
    nasaApiKeySecretName: nasaApiKeySecretName
    enablePurgeProtection: production
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    privateNetworking: privateNetworking
  }
}

module databricks 'app/databricks.bicep' = {
  name: 'databricks'
  scope: rg
  params: {
    workspaceName: '${abbrs.databricksWorkspaces}orbiter-${resourceToken}'
    accessConnectorName: '${abbrs.databricksAccessConnectors}orbiter-${resourceToken}'
    managedResourceGroupName: '${abbrs.resourcesResourceGroups}${environmentName}-databricks-managed'
    location: location
    tags: tags
    pricingTier: databricksPricingTier
    vnetEnabled: databricksVnetEnabled
    vnetName: '${abbrs.networkVirtualNetworks}dbw-${resourceToken}'
    nsgName: '${abbrs.networkNetworkSecurityGroups}dbw-${resourceToken}'
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module network 'app/network.bicep' = if (privateNetworking) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}orbiter-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// One private endpoint per (target, group id); the app reaches each through the VNet.
var privateEndpointTargets = [
  { key: 'lake-blob', target: lake.outputs.id, groupId: 'blob' }
  { key: 'lake-dfs', target: lake.outputs.id, groupId: 'dfs' }
  { key: 'lake-table', target: lake.outputs.id, groupId: 'table' }
  { key: 'lake-queue', target: lake.outputs.id, groupId: 'queue' }
  { key: 'host-blob', target: hostStorage.outputs.id, groupId: 'blob' }
  { key: 'host-table', target: hostStorage.outputs.id, groupId: 'table' }
  { key: 'host-queue', target: hostStorage.outputs.id, groupId: 'queue' }
  { key: 'servicebus', target: serviceBus.outputs.id, groupId: 'namespace' }
  { key: 'keyvault', target: keyVault.outputs.id, groupId: 'vault' }
]

module privateEndpoints 'app/private-endpoint.bicep' = [
  for pe in privateEndpointTargets: if (privateNetworking) {
    name: 'pe-${pe.key}'
    scope: rg
    params: {
      name: '${abbrs.networkPrivateEndpoints}${pe.key}-${resourceToken}'
      location: location
      tags: tags
      targetId: pe.target
      groupId: pe.groupId
      subnetId: network.outputs.privateEndpointSubnetId
      dnsZoneId: network.outputs.dnsZoneIds[pe.groupId]
    }
  }
]

// Every setting the config schema (shared/config.ts configSchema) reads in Azure, plus the host's own settings.
// Connections are identity-based (<Conn>__serviceUri/__fullyQualifiedNamespace + __credential + __clientId), so no
// secret appears here; the NASA key is a Key Vault reference. Not set, on purpose: OrbiterLake and
// ServiceBusConnection (local connection strings), DATABRICKS_TOKEN and ORBITER_FUNCTION_KEY (local only), and
// FUNCTIONS_WORKER_RUNTIME (Flex Consumption takes the runtime from functionAppConfig and rejects this setting).
var functionAppSettings = {
  AzureWebJobsStorage__accountName: hostStorage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  OrbiterLake__blobServiceUri: lake.outputs.blobEndpoint
  OrbiterLake__queueServiceUri: lake.outputs.queueEndpoint
  OrbiterLake__tableServiceUri: lake.outputs.tableEndpoint
  OrbiterLake__credential: 'managedidentity'
  OrbiterLake__clientId: identity.outputs.clientId
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identity.outputs.clientId
  // DefaultAzureCredential (Databricks Entra tokens) picks the user-assigned identity from this.
  AZURE_CLIENT_ID: identity.outputs.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  // Local auth is off on Application Insights: telemetry is sent with the managed identity's token.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  NASA_API_KEY: '@Microsoft.KeyVault(VaultName=${keyVault.outputs.name};SecretName=${nasaApiKeySecretName})'
  NASA_MODE: nasaMode
  NASA_API_BASE_URL: nasaApiBaseUrl
  EPIC_API_BASE_URL: epicApiBaseUrl
  EONET_API_BASE_URL: eonetApiBaseUrl
  JPL_SSD_API_BASE_URL: jplSsdApiBaseUrl
  METEORITES_API_URL: meteoritesApiUrl
  CMR_API_BASE_URL: cmrApiBaseUrl
  CMR_COLLECTION_SHORT_NAME: cmrCollectionShortName
  CMR_PAGE_SIZE: cmrPageSize
  METEORITES_PAGE_SIZE: meteoritesPageSize
  INGEST_SCHEDULE: ingestSchedule
  INGEST_START_DATE: ingestStartDate
  INGEST_START_DATES: ingestStartDates
  INGEST_SOURCES: ingestSources
  INGEST_MAX_WINDOWS_PER_RUN: ingestMaxWindowsPerRun
  HTTP_TIMEOUT_MS: httpTimeoutMs
  HTTP_MAX_RETRIES: httpMaxRetries
  DATABRICKS_HOST: databricks.outputs.host
  DATABRICKS_AUTH: 'entra'
  JOB_CATALOG_PATH: jobCatalogPath
  // lake_root job parameter: {zone} becomes each zone's container.
  JOBS_LAKE_ROOT: 'abfss://{zone}@${replace(replace(lake.outputs.dfsEndpoint, 'https://', ''), '/', '')}'
  DISPATCH_POLL_INITIAL_MS: '2000'
  DISPATCH_POLL_MAX_MS: '60000'
  // The Run API verifies Entra tokens itself (issuer, audience, signature, expiry, app roles); App Service
  // authentication (functionapp.bicep) rejects unauthenticated calls before they reach the app.
  API_AUTH_MODE: 'entra'
  RUN_API_QUOTA_PER_MINUTE: runApiQuotaPerMinute
  RUN_API_IDEMPOTENCY_TTL_HOURS: runApiIdempotencyTtlHours
  ENTRA_TENANT_ID: tenant().tenantId
  ENTRA_API_AUDIENCE: apiAudience
}

module functionApp 'app/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    serviceName: serviceName
    identityId: identity.outputs.id
    hostStorageName: hostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    runtimeVersion: functionNodeVersion
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    appSettings: functionAppSettings
    apiClientId: apiClientId
    apiAudience: apiAudience
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    virtualNetworkSubnetId: privateNetworking ? network.outputs.appSubnetId : ''
  }
}

module eventGridTopic 'app/eventgrid-topic.bicep' = {
  name: 'eventgrid-topic'
  scope: rg
  params: {
    name: '${abbrs.eventGridDomainsTopics}lake-${resourceToken}'
    location: location
    tags: tags
    storageAccountId: lake.outputs.id
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    lakeName: lake.outputs.name
    hostStorageName: hostStorage.outputs.name
    deadLetterContainerName: deadLetterContainerName
    zoneContainers: zoneContainers
    serviceBusName: serviceBus.outputs.name
    queueNames: queueNames
    topicName: topicName
    keyVaultName: keyVault.outputs.name
    nasaApiKeySecretName: keyVault.outputs.nasaApiKeySecretName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    functionPrincipalId: identity.outputs.principalId
    eventGridPrincipalId: eventGridTopic.outputs.principalId
    accessConnectorPrincipalId: databricks.outputs.accessConnectorPrincipalId
  }
}

module blobEventSubscription 'app/blob-event-subscription.bicep' = if (enableBlobEventSubscription) {
  name: 'blob-event-subscription'
  scope: rg
  params: {
    systemTopicName: eventGridTopic.outputs.name
    subscriptionName: 'raw-to-${blobTriggerFunctionName}'
    functionAppName: functionApp.outputs.name
    functionName: blobTriggerFunctionName
    containerName: blobTriggerContainerName
    storageAccountId: lake.outputs.id
    deadLetterContainerName: deadLetterContainerName
  }
  dependsOn: [
    rbac // the topic identity must be allowed to dead-letter before deliveries start
  ]
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: '${abbrs.insightsScheduledQueryRules}orbiter-${environmentName}'
    actionGroupName: '${abbrs.insightsActionGroups}orbiter-${resourceToken}'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    rules: alertDefinitions.rules
    metricScopes: {
      serviceBusNamespace: serviceBus.outputs.id
    }
    alertEmail: alertEmail
  }
}

module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    serializedData: loadTextContent('workbooks/runs.workbook.json')
  }
}

// ---- Outputs (azd stores them in the environment; the hooks, the bundle deploy and docs/deploy.md use them) ----
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_ORBITER_URI string = functionApp.outputs.uri
output FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output FUNCTION_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output ORBITER_LAKE_ACCOUNT_NAME string = lake.outputs.name
output ORBITER_LAKE_BLOB_ENDPOINT string = lake.outputs.blobEndpoint
// The notebooks' lake_root (docs/contracts.md): {zone} is replaced by the container of each zone.
output ORBITER_LAKE_ROOT string = 'abfss://{zone}@${replace(replace(lake.outputs.dfsEndpoint, 'https://', ''), '/', '')}'
output ORBITER_LAKE_CONTAINERS array = lakeContainerNames
output ORBITER_TABLES array = tableNames
output SERVICE_BUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output SERVICE_BUS_QUEUE_RUN_REQUESTS string = queueNames.runRequests
output SERVICE_BUS_QUEUE_RUN_STATUS string = queueNames.runStatus
output SERVICE_BUS_TOPIC_RUN_EVENTS string = topicName
output EVENT_GRID_SYSTEM_TOPIC_NAME string = eventGridTopic.outputs.name
output BLOB_EVENT_SUBSCRIPTION_ENABLED bool = enableBlobEventSubscription
output KEY_VAULT_NAME string = keyVault.outputs.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output DATABRICKS_HOST string = databricks.outputs.host
output DATABRICKS_WORKSPACE_RESOURCE_ID string = databricks.outputs.id
output DATABRICKS_ACCESS_CONNECTOR_ID string = databricks.outputs.accessConnectorId
output ALERT_ACTION_GROUP_ID string = alerts.outputs.actionGroupId
