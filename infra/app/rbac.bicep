// Role assignments, least privilege: each identity gets data-plane roles on the narrowest scope that works
// (an entity, a container or a secret rather than the account or the resource group). No control-plane roles.
// Names are guid(scope, principal, role) so a redeploy finds the same assignment instead of failing on a duplicate.
param lakeName string
param hostStorageName string
param deadLetterContainerName string

@description('Lake zone containers by zone: raw, quarantine, events, bronze, silver, gold, checkpoints (shared/names.ts Containers).')
param zoneContainers object
param serviceBusName string
param queueNames object
param topicName string
param keyVaultName string
param nasaApiKeySecretName string
param applicationInsightsName string

@description('Principal (object) id of the Function App identity.')
param functionPrincipalId string

@description('Principal id of the Event Grid system topic identity (dead-lettering).')
param eventGridPrincipalId string

@description('Principal id of the Databricks access connector (Unity Catalog storage credential).')
param accessConnectorPrincipalId string

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles)
// Storage Blob Data Contributor: read, write, delete blobs and containers' data.
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
// Storage Blob Data Reader: read blobs and their properties.
var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
// Storage Blob Data Owner: what the Functions host needs on AzureWebJobsStorage (blob leases, container creation).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Queue Data Contributor: the Functions host keeps queues in its own storage account.
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
// Storage Table Data Contributor: watermarks, run records, blob receipts.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Azure Service Bus Data Sender / Receiver: send to, receive from one entity.
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2552ae39'
var serviceBusDataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
// Key Vault Secrets User: read secret values (the NASA_API_KEY Key Vault reference).
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
// Monitoring Metrics Publisher: send telemetry to Application Insights with Entra ID (local auth is disabled).
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource lake 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: lakeName
}

resource lakeBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: lake
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: deadLetterContainerName
}

resource rawContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: zoneContainers.raw
}

resource quarantineContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: zoneContainers.quarantine
}

resource eventsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: zoneContainers.events
}

resource bronzeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: zoneContainers.bronze
}

resource silverContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: zoneContainers.silver
}

resource goldContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: zoneContainers.gold
}

resource checkpointsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobService
  name: zoneContainers.checkpoints
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusName
}

resource runRequests 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: queueNames.runRequests
}

resource runStatus 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: queueNames.runStatus
}

resource runFailures 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: queueNames.runFailures
}

resource runEvents 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' existing = {
  parent: serviceBus
  name: topicName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource nasaKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: nasaApiKeySecretName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// ---- Function App identity: the lake, per container ----
// Blob roles on the containers the app writes, never on the account: raw (ingestion lands, landing reads
// properties), quarantine (bad payloads), events (run manifests and completion events). It cannot touch the zones
// Databricks owns. Tables stay account-scoped (watermarks, runs, batches, receipts, idempotency keys).
resource fnRawBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(rawContainer.id, functionPrincipalId, storageBlobDataContributor)
  scope: rawContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnQuarantineBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(quarantineContainer.id, functionPrincipalId, storageBlobDataContributor)
  scope: quarantineContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnEventsBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventsContainer.id, functionPrincipalId, storageBlobDataContributor)
  scope: eventsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnLakeTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(lake.id, functionPrincipalId, storageTableDataContributor)
  scope: lake
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Function App identity: host storage (AzureWebJobsStorage + deployment package) ----
resource fnHostBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionPrincipalId, storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnHostQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionPrincipalId, storageQueueDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Function App identity: Service Bus, per entity ----
// run-requests: the blob handler sends, the dispatcher receives.
resource fnRunRequestsSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runRequests.id, functionPrincipalId, serviceBusDataSender)
  scope: runRequests
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnRunRequestsReceive 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runRequests.id, functionPrincipalId, serviceBusDataReceiver)
  scope: runRequests
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// run-status: the completion webhook / poller sends, the status handler receives.
resource fnRunStatusSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runStatus.id, functionPrincipalId, serviceBusDataSender)
  scope: runStatus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnRunStatusReceive 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runStatus.id, functionPrincipalId, serviceBusDataReceiver)
  scope: runStatus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// run-failures: the dispatcher parks a failed run (send) and moves it to the dead-letter queue (receive).
resource fnRunFailuresSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runFailures.id, functionPrincipalId, serviceBusDataSender)
  scope: runFailures
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnRunFailuresReceive 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runFailures.id, functionPrincipalId, serviceBusDataReceiver)
  scope: runFailures
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// run-events: the app publishes run events and reads its own monitor subscription (receive on a topic covers
// its subscriptions).
resource fnRunEventsSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runEvents.id, functionPrincipalId, serviceBusDataSender)
  scope: runEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource fnRunEventsReceive 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runEvents.id, functionPrincipalId, serviceBusDataReceiver)
  scope: runEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Function App identity: the NASA key secret only, not the whole vault ----
resource fnNasaKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(nasaKey.id, functionPrincipalId, keyVaultSecretsUser)
  scope: nasaKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Function App identity: telemetry ----
resource fnTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Event Grid system topic: write dead-lettered events, to the dead-letter container only ----
resource eventGridDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, eventGridPrincipalId, storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: eventGridPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Databricks access connector: Unity Catalog reads raw and events, writes only the zones it owns ----
// Read-only on raw: a write there would land a file and trigger a run. Read-only on events (input manifests,
// completion events for the streaming job). Contributor on quarantine (its quarantine/records table), bronze,
// silver, gold and checkpoints. Nothing on the account.
resource connectorRawRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(rawContainer.id, accessConnectorPrincipalId, storageBlobDataReader)
  scope: rawContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorEventsRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventsContainer.id, accessConnectorPrincipalId, storageBlobDataReader)
  scope: eventsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorQuarantineWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(quarantineContainer.id, accessConnectorPrincipalId, storageBlobDataContributor)
  scope: quarantineContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorBronzeWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bronzeContainer.id, accessConnectorPrincipalId, storageBlobDataContributor)
  scope: bronzeContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorSilverWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(silverContainer.id, accessConnectorPrincipalId, storageBlobDataContributor)
  scope: silverContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorGoldWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(goldContainer.id, accessConnectorPrincipalId, storageBlobDataContributor)
  scope: goldContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorCheckpointsWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(checkpointsContainer.id, accessConnectorPrincipalId, storageBlobDataContributor)
  scope: checkpointsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}
