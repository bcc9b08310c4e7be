// Azure Databricks workspace (Premium: job webhooks, Unity Catalog, service principals with Entra ID tokens) and
// an access connector whose managed identity Unity Catalog uses as the storage credential for the lake.
// VNet injection is optional and off by default; when on, the workspace gets its own VNet with the two delegated
// subnets Databricks requires and no public IPs on cluster nodes.
param workspaceName string
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

output id string = workspace.id
output name string = workspace.name
output workspaceUrl string = workspace.properties.workspaceUrl
output host string = 'https://${workspace.properties.workspaceUrl}'
output accessConnectorId string = accessConnector.id
output accessConnectorPrincipalId string = accessConnector.identity.principalId
