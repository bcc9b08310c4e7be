// Key Vault in RBAC mode holding the api.nasa.gov key; the Function App reads it through a Key Vault reference
// (NASA_API_KEY app setting), so the key never appears in app settings or deployment outputs.
param name string
param location string
param tags object = {}

@secure()
@description('api.nasa.gov key stored as the secret below.')
param nasaApiKey string

@description('Secret name the NASA_API_KEY Key Vault reference points at.')
param nasaApiKeySecretName string

@description('Log Analytics workspace every diagnostic setting of this module sends to.')
param logAnalyticsWorkspaceId string

@description('Private-network option (main.bicep): public network access off; clients come through private endpoints.')
param privateNetworking bool = false

@description('Purge protection cannot be turned off again once on; enable it for production vaults.')
param enablePurgeProtection bool = false

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    // Production keeps deleted secrets recoverable for the maximum period; dev vaults are purged quickly.
    softDeleteRetentionInDays: enablePurgeProtection ? 90 : 7
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource nasaKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: nasaApiKeySecretName
  properties: {
    value: nasaApiKey
    contentType: 'text/plain'
  }
}

// AuditEvent: every secret read (the NASA key) is logged.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
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

output id string = vault.id
output name string = vault.name
output vaultUri string = vault.properties.vaultUri
output nasaApiKeySecretName string = nasaKey.name
