// Event Grid system topic over the lake account. It has its own managed identity so that dead-lettered deliveries
// can be written to the lake without shared keys (the lake has allowSharedKeyAccess: false).
param name string
param location string
param tags object = {}

@description('Resource id of the storage account whose blob events the topic publishes.')
param storageAccountId string

@description('Log Analytics workspace every diagnostic setting of this module sends to.')
param logAnalyticsWorkspaceId string

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// DeliveryFailures: webhook deliveries to landedBlob that failed (before retries and dead-lettering).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: topic
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output id string = topic.id
output name string = topic.name
output principalId string = topic.identity.principalId
