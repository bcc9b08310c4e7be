// The private-network option (main.bicep privateNetworking): a VNet with a subnet the Function App integrates with
// (outbound) and a subnet for private endpoints, plus one private DNS zone per endpoint kind, linked to the VNet, so
// the app resolves the lake, host storage, Service Bus and Key Vault to their private addresses.
param name string
param location string
param tags object = {}

@description('Log Analytics workspace receiving the VNet\'s metrics.')
param logAnalyticsWorkspaceId string

param addressPrefix string = '10.50.0.0/16'
param appSubnetPrefix string = '10.50.0.0/24'
param privateEndpointSubnetPrefix string = '10.50.1.0/24'

// Private DNS zones by endpoint group id (https://learn.microsoft.com/azure/private-link/private-endpoint-dns).
var dnsZoneNames = {
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  dfs: 'privatelink.dfs.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  namespace: 'privatelink.servicebus.windows.net'
  vault: 'privatelink.vaultcore.azure.net'
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [addressPrefix]
    }
    subnets: [
      {
        // Flex Consumption VNet integration: a subnet delegated to Microsoft.App/environments.
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for zone in items(dnsZoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (zone, i) in items(dnsZoneNames): {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
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

output vnetId string = vnet.id
output appSubnetId string = vnet.properties.subnets[0].id
output privateEndpointSubnetId string = vnet.properties.subnets[1].id
// Zone resource ids by endpoint group id (blob, dfs, table, queue, namespace, vault).
output dnsZoneIds object = {
  blob: zones[0].id
  dfs: zones[1].id
  table: zones[2].id
  queue: zones[3].id
  namespace: zones[4].id
  vault: zones[5].id
}
