// The Function App's user-assigned identity. User-assigned (not system-assigned) because it must exist before the
// app: role assignments, the deployment-storage authentication and the Databricks service principal all name it,
// and it survives re-creating the app.
param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
