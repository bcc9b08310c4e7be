// The Orbiter Function App on the Flex Consumption plan (FC1), Linux, Node. It runs as a user-assigned managed
// identity: the same identity reads the deployment package, the lake, Service Bus and Key Vault, publishes
// telemetry, and calls the Databricks Jobs API (registered in the workspace as a service principal).
param name string
param planName string
param location string
param tags object = {}

@description('azd service name (azure.yaml) this app hosts.')
param serviceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Host storage account holding the deployment container.')
param hostStorageName string

param deploymentContainerName string

@allowed(['20', '22'])
@description('Node major version. Flex Consumption sets the runtime here: FUNCTIONS_WORKER_RUNTIME is not an allowed app setting on this plan.')
param runtimeVersion string = '22'

@minValue(1)
@maxValue(1000)
@description('Scale-out ceiling (cost lever): the most instances Flex Consumption may run at once.')
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('App settings (name -> value); the complete set, assembled in main.bicep from the config schema.')
param appSettings object

@description('Log Analytics workspace every diagnostic setting of this module sends to.')
param logAnalyticsWorkspaceId string

@description('Subnet (delegated to Microsoft.App/environments) for outbound VNet integration; empty = none.')
param virtualNetworkSubnetId string = ''

@description('Client id of the Run API app registration (App Service authentication).')
param apiClientId string

@description('Token audience the Run API accepts.')
param apiAudience string

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Private-network option: outbound traffic (lake, host storage, Service Bus, Key Vault) goes through the VNet
    // to private endpoints. Inbound stays public: Event Grid delivers landedBlob's events to the webhook, and the
    // Run API is behind App Service authentication.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    // Key Vault references (NASA_API_KEY) resolve with this identity instead of a system-assigned one.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: runtimeVersion
      }
    }
  }
}

// The whole app-settings collection is declared here, so a redeploy removes settings that are no longer wanted.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// App Service authentication in front of the app: a call without a valid Entra token for the API is answered 401
// before any function runs, and the platform strips a caller's x-ms-client-principal. The app verifies the token
// again (shared/api/auth.ts), so the API stays closed if this were ever switched off. The Databricks webhook and the
// health probe carry function keys instead (Databricks cannot obtain Entra tokens for a webhook).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/hooks/databricks-jobs'
        '/api/health'
        '/api/openapi.json'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            apiAudience
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

// No publishing with basic (user/password) credentials: deployments use Entra ID.
resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}


// The plan's metrics (instances, memory).
resource planDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: plan
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

// FunctionAppLogs (every invocation's log lines) and the site's metrics.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
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

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output uri string = 'https://${site.properties.defaultHostName}'
