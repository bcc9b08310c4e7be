// Log search alerts over Application Insights, one per rule of infra/alerts/alert-rules.json (loaded in main.bicep
// and passed in as `rules`), and the action group they notify. Shape of a rule: infra/alerts/README.md.
param namePrefix string
param actionGroupName string
param location string
param tags object = {}

@description('Application Insights component the queries run against.')
param applicationInsightsId string

@description('Rules from infra/alerts/alert-rules.json.')
param rules array

@description('Optional e-mail address notified by the action group; empty = no e-mail receiver.')
param alertEmail string = ''

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'orbiter'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'orbiter-operators'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsightsId
      ]
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      autoMitigate: contains(rule, 'autoMitigate') ? rule.autoMitigate : false
      criteria: {
        allOf: [
          union(
            {
              query: rule.query
              timeAggregation: rule.timeAggregation
              operator: rule.operator
              threshold: rule.threshold
              dimensions: map(
                contains(rule, 'dimensions') ? rule.dimensions : [],
                dimension => {
                  name: dimension
                  operator: 'Include'
                  values: ['*']
                }
              )
              failingPeriods: {
                numberOfEvaluationPeriods: 1
                minFailingPeriodsToAlert: 1
              }
            },
            // Count needs no measure column; every other aggregation aggregates one numeric column.
            rule.timeAggregation == 'Count' ? {} : { metricMeasureColumn: rule.metricMeasureColumn }
          )
        ]
      }
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

output actionGroupId string = actionGroup.id
output alertRuleNames array = [for (rule, i) in rules: alertRules[i].name]
