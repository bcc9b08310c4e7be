// Azure Databricks workspace (Premium: job webhooks, Unity Catalog, service principals with Entra ID tokens) and
// an access connector whose managed identity Unity Catalog uses as the storage credential for the lake.
// VNet injection is optional and off by default; when on, the workspace gets its own VNet with the two delegated
// subnets Databricks requires and no public IPs on cluster nodes.
param workspaceName string

@description('Log Analytics workspace every diagnostic setting of this module sends to.')
param logAnalyticsWorkspaceId string
param accessConnectorName string
param location string
param tags object = {}

@allowed(['premium', 'standard', 'trial'])
param pricingTier string = 'premium'

@description('Resource group Databricks creates and manages for the workspace (clusters, disks, its own storage).')
param managedResourceGroupName string

param vnetEnabled bool = false
param vnetName string = ''
param nsgName string = ''
param vnetAddressPrefix string = '10.40.0.0/16'
param publicSubnetPrefix string = '10.40.0.0/20'
param privateSubnetPrefix string = '10.40.16.0/20'

var publicSubnetName = 'databricks-public'
var privateSubnetName = 'databricks-private'

resource nsg 'Microsoft.Network/networkSecurityGroups@2023-11-01' = if (vnetEnabled) {
  name: nsgName
  location: location
  tags: tags
  properties: {} // Databricks adds its required rules through a network intent policy
}

var delegatedSubnet = {
  networkSecurityGroup: {
    id: resourceId('Microsoft.Network/networkSecurityGroups', nsgName)
  }
  delegations: [
    {
      name: 'databricks'
      properties: {
        serviceName: 'Microsoft.Databricks/workspaces'
      }
    }
  ]
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = if (vnetEnabled) {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [vnetAddressPrefix]
    }
    subnets: [
      {
        name: publicSubnetName
        properties: union(delegatedSubnet, { addressPrefix: publicSubnetPrefix })
      }
      {
        name: privateSubnetName
        properties: union(delegatedSubnet, { addressPrefix: privateSubnetPrefix })
      }
    ]
  }
  dependsOn: [
    nsg
  ]
}

var injectionParameters = {
  customVirtualNetworkId: {
    value: resourceId('Microsoft.Network/virtualNetworks', vnetName)
  }
  customPublicSubnetName: {
    value: publicSubnetName
  }
  customPrivateSubnetName: {
    value: privateSubnetName
  }
}

resource workspace 'Microsoft.Databricks/workspaces@2024-05-01' = {
  name: workspaceName
  location: location
  tags: tags
  sku: {
    name: pricingTier
  }
  properties: {
    managedResourceGroupId: subscriptionResourceId('Microsoft.Resources/resourceGroups', managedResourceGroupName)
    publicNetworkAccess: 'Enabled'
    requiredNsgRules: vnetEnabled ? 'AllRules' : null
    parameters: union(
      {
        enableNoPublicIp: {
          value: true // secure cluster connectivity: nodes get no public IPs
        }
      },
      vnetEnabled ? injectionParameters : {}
    )
  }
  dependsOn: [
    vnet
  ]
}

resource accessConnector 'Microsoft.Databricks/accessConnectors@2024-05-01' = {
  name: accessConnectorName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {}
}

// Jobs, clusters, accounts and the rest of the workspace's audit logs (Premium tier).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workspace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

// The injected VNet's and its NSG's logs (rule events) and metrics, when there is one.
resource nsgDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (vnetEnabled) {
  name: 'to-log-analytics'
  scope: nsg
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource vnetDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (vnetEnabled) {
  name: 'to-log-analytics'
  scope: vnet
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

output id string = workspace.id
output name string = workspace.name
output workspaceUrl string = workspace.properties.workspaceUrl
output host string = 'https://${workspace.properties.workspaceUrl}'
output accessConnectorId string = accessConnector.id
output accessConnectorPrincipalId string = accessConnector.identity.principalId
