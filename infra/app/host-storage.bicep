// Storage for the Functions host itself (AzureWebJobsStorage: leases, timers, keys) and the Flex Consumption
// deployment package. Kept apart from the lake so host bookkeeping never mixes with data, and so the lake's
// hierarchical namespace and lifecycle rules never touch the host's blobs.
param name string
param location string
param tags object = {}

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

resource host 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: host
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

output id string = host.id
output name string = host.name
output blobEndpoint string = host.properties.primaryEndpoints.blob
