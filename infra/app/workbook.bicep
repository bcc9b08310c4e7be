// The Orbiter operations workbook (runs, ingestion, queues, alerts), defined in infra/workbooks/runs.workbook.json.
param displayName string = 'Orbiter runs'
param location string
param tags object = {}

@description('Application Insights component the workbook opens on (its default data source).')
param applicationInsightsId string

@description('Serialized workbook JSON (loadTextContent in main.bicep).')
param serializedData string

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook resource names must be GUIDs; derive one so redeploys update the same workbook.
  name: guid(resourceGroup().id, applicationInsightsId, 'orbiter-runs-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: serializedData
    version: 'Notebook/1.0'
  }
}

output id string = workbook.id
