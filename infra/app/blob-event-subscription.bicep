// Event Grid subscription feeding the Event Grid trigger `landedBlob` (BlobCreated in raw) through the host's Event
// Grid extension webhook. An Event Grid trigger, not a blob trigger: the host hands over the event only, never the
// blob's content, so a 2 GB landing costs what 1 KB costs. Deployed only once the app code is deployed (azure.yaml
// postdeploy hook, or enableBlobEventSubscription): the eventgrid_extension system key exists only after the host has
// loaded an Event Grid trigger, and Event Grid validates the webhook when the subscription is created.
param systemTopicName string
param subscriptionName string
param functionAppName string

@description('Function name of the Event Grid trigger that handles landed blobs.')
param functionName string

@description('Container whose completed writes trigger the function.')
param containerName string

@description('Lake account id (dead-letter destination).')
param storageAccountId string

param deadLetterContainerName string

@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-grid-trigger (webhook endpoint)
var eventGridExtensionKey = listKeys('${site.id}/host/default', '2024-04-01').systemKeys.eventgrid_extension
var webhookUrl = 'https://${site.properties.defaultHostName}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${eventGridExtensionKey}'

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: subscriptionName
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: webhookUrl
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/'
      // Only completed writes: PutBlob / PutBlockList (Blob API) and FlushWithClose (ADLS Gen2 API). A DFS create or
      // an append without close also raises BlobCreated, for a blob that is not finished yet.
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.api'
          values: [
            'PutBlob'
            'PutBlockList'
            'FlushWithClose'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storageAccountId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output id string = subscription.id
