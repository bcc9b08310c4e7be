// One private endpoint: a NIC in the VNet's private-endpoint subnet for one sub-resource (group id) of a target,
// registered in the matching private DNS zone so the target's public name resolves to the private address.
param name string
param location string
param tags object = {}

@description('Resource id of the target (storage account, Service Bus namespace, Key Vault).')
param targetId string

@allowed(['blob', 'dfs', 'table', 'queue', 'namespace', 'vault'])
param groupId string

param subnetId string

@description('Private DNS zone of this group id (network.bicep dnsZoneIds).')
param dnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2023-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: dnsZoneId
        }
      }
    ]
  }
}

output id string = endpoint.id
