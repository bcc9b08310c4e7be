// Event Grid subscription feeding the Event Grid-source blob trigger `landedBlob` through the host's blob extension
// webhook. Deployed only once the app code is deployed (azure.yaml postdeploy hook, or enableBlobEventSubscription):
// the blobs_extension system key exists only after the host has loaded a blob trigger, and Event Grid validates the
// webhook when the subscription is created.
param systemTopicName string
param subscriptionName string
param functionAppName string

@description('Function name of the Event Grid-source blob trigger.')
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

// https://learn.microsoft.com/azure/azure-functions/functions-event-grid-blob-trigger#build-the-endpoint-url
var blobsExtensionKey = listKeys('${site.id}/host/default', '2024-04-01').systemKeys.blobs_extension
var webhookUrl = 'https://${site.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'

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
