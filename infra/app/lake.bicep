// The lake: one StorageV2 account with a hierarchical namespace (ADLS Gen2), a container per lake zone, the
// Orbiter tables, and lifecycle rules that move raw landings to cooler tiers. Shared keys are off: every client
// (Function App, Databricks access connector, Event Grid dead-lettering) authenticates with Entra ID.
param name string
param location string
param tags object = {}

@description('Lake zone containers (shared/names.ts Containers).')
param containerNames array

@description('Tables for watermarks, run records and blob receipts (shared/names.ts Tables).')
param tableNames array

@description('Infra-only container receiving Event Grid deliveries that exhausted their retries.')
param deadLetterContainerName string

@description('Log Analytics workspace every diagnostic setting of this module sends to.')
param logAnalyticsWorkspaceId string

@description('Private-network option (main.bicep): the firewall denies public traffic; the app comes through private endpoints, Event Grid dead-lettering through the trusted-services exception, and the Databricks access connector through a resource-instance rule.')
param privateNetworking bool = false

@description('Resource id of the Databricks access connector (resource-instance rule when privateNetworking).')
param accessConnectorId string = ''

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param skuName string = 'Standard_LRS'

@minValue(1)
@description('Days after which raw landings move to the Cool tier.')
param rawCoolAfterDays int = 30

@minValue(0)
@description('Days after which raw landings move to the Archive tier; 0 keeps them in Cool.')
param rawArchiveAfterDays int = 0

@minValue(0)
@description('Days after which quarantined payloads are deleted; 0 keeps them.')
param quarantineDeleteAfterDays int = 90

@minValue(1)
@description('Days after which dead-lettered Event Grid deliveries are deleted.')
param deadLetterDeleteAfterDays int = 30

@minValue(7)
@description('Days after which input manifests of runs (events/manifests/) are deleted; a repair reuses its run\'s manifest, so keep it longer than runs and their retries last.')
param manifestDeleteAfterDays int = 60

resource lake 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    isHnsEnabled: true
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Public access stays switched on in private mode so the firewall's exceptions can apply (Event Grid
    // dead-lettering is a trusted service; the access connector a resource instance); everything else is denied.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
      resourceAccessRules: privateNetworking && !empty(accessConnectorId)
        ? [
            {
              tenantId: tenant().tenantId
              resourceId: accessConnectorId
            }
          ]
        : []
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: lake
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in union(containerNames, [deadLetterContainerName]): {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: lake
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in tableNames: {
    parent: tableService
    name: table
  }
]

// Raw blobs are content-addressed and read by bronze soon after landing; afterwards they are kept for replays only,
// so they age into cheaper tiers. Delta zones are left alone (Delta manages its own files, VACUUM removes them).
var rawTiering = union(
  {
    tierToCool: {
      daysAfterModificationGreaterThan: rawCoolAfterDays
    }
  },
  rawArchiveAfterDays > 0
    ? {
        tierToArchive: {
          daysAfterModificationGreaterThan: rawArchiveAfterDays
        }
      }
    : {}
)

var rawRule = {
  name: 'raw-to-cooler-tiers'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: ['blockBlob']
      prefixMatch: ['raw/']
    }
    actions: {
      baseBlob: rawTiering
    }
  }
}

var quarantineRule = {
  name: 'quarantine-expiry'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: ['blockBlob']
      prefixMatch: ['quarantine/']
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: quarantineDeleteAfterDays
        }
      }
    }
  }
}

var deadLetterRule = {
  name: 'eventgrid-deadletter-expiry'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: ['blockBlob']
      prefixMatch: ['${deadLetterContainerName}/']
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: deadLetterDeleteAfterDays
        }
      }
    }
  }
}

// Run input manifests (written by the dispatcher when a run's file list is too long for a job parameter).
var manifestRule = {
  name: 'run-manifest-expiry'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: ['blockBlob']
      prefixMatch: ['events/manifests/']
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: manifestDeleteAfterDays
        }
      }
    }
  }
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: lake
  name: 'default'
  properties: {
    policy: {
      rules: concat([rawRule, deadLetterRule, manifestRule], quarantineDeleteAfterDays > 0 ? [quarantineRule] : [])
    }
  }
  dependsOn: [
    containers
  ]
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: lake
  name: 'default'
}

// Diagnostics: transactions of the account, and the read/write/delete logs of each service.
resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: lake
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'Transaction'
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

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'Transaction'
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

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'Transaction'
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

output id string = lake.id
output name string = lake.name
output blobEndpoint string = lake.properties.primaryEndpoints.blob
output dfsEndpoint string = lake.properties.primaryEndpoints.dfs
output queueEndpoint string = lake.properties.primaryEndpoints.queue
output tableEndpoint string = lake.properties.primaryEndpoints.table
