// Service Bus: run requests in, run status back, run events fanned out to the stream consumer and the monitor.
// Retries come from MaxDeliveryCount and the dead-letter queue (not from function retry policies), and expired
// messages are dead-lettered rather than dropped, so nothing disappears without a trace.
param name string
param location string
param tags object = {}

@description('Queue names: runRequests, runStatus, runFailures (shared/names.ts Queues).')
param queueNames object

@description('Topic name (shared/names.ts Topics).')
param topicName string

@description('Topic subscription names (shared/names.ts Subscriptions).')
param topicSubscriptionNames array

@allowed(['Standard', 'Premium'])
@description('Standard is the cheapest tier with topics and duplicate detection; private endpoints need Premium.')
param skuName string = 'Standard'

@minValue(1)
@maxValue(2000)
@description('Deliveries before a message is dead-lettered.')
param maxDeliveryCount int = 10

@description('Duplicate detection window of run-requests (ISO 8601): the same request id within it is dropped.')
param duplicateDetectionWindow string = 'PT10M'

@description('Message time to live (ISO 8601); expired messages are dead-lettered.')
param messageTimeToLive string = 'P7D'

@description('Peek-lock duration (ISO 8601); the handler must finish or renew within it.')
param lockDuration string = 'PT1M'

@description('Log Analytics workspace for Service Bus metrics and logs (the workbook reads them).')
param logAnalyticsWorkspaceId string

@description('Private-network option (main.bicep): public network access off; clients come through a private endpoint (Premium only).')
param privateNetworking bool = false

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
  }
  properties: {
    disableLocalAuth: true // Entra ID only: no SAS keys to leak or rotate
    minimumTlsVersion: '1.2'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
  }
}

resource runRequests 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueNames.runRequests
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: messageTimeToLive
    lockDuration: lockDuration
  }
}

// Control messages carry deterministic ids (flush, poll step, retry attempt): duplicate detection drops replays.
resource runStatus 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueNames.runStatus
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: messageTimeToLive
    lockDuration: lockDuration
  }
}

// Runs that failed for good: the dispatcher parks each one here and dead-letters it at once with the reason, so the
// dead-letter queue is the list of runs that need a person (orbiter dlq list/resubmit; the dead-letter alert).
// Messages never expire: a failed run stays until someone resubmits or removes it.
resource runFailures 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueNames.runFailures
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    lockDuration: lockDuration
  }
}

resource runEvents 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: topicName
  properties: {
    defaultMessageTimeToLive: messageTimeToLive
  }
}

resource subscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = [
  for subscriptionName in topicSubscriptionNames: {
    parent: runEvents
    name: subscriptionName
    properties: {
      maxDeliveryCount: maxDeliveryCount
      deadLetteringOnMessageExpiration: true
      deadLetteringOnFilterEvaluationExceptions: true
      defaultMessageTimeToLive: messageTimeToLive
      lockDuration: lockDuration
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
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

output id string = namespace.id
output name string = namespace.name
// e.g. sb-abc.servicebus.windows.net, derived from the endpoint so sovereign clouds work too.
output fullyQualifiedNamespace string = replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')
