// The alerts of infra/alerts/alert-rules.json (loaded in main.bicep and passed in as `rules`) and the action group
// they notify: a rule with a `query` becomes a log search alert over Application Insights, a rule with a `metric`
// a metric alert on the resource it names (`metric.resource`, a key of `metricScopes`). Shape: infra/alerts/README.md.
param namePrefix string
param actionGroupName string
param location string
param tags object = {}

@description('Application Insights component the queries run against.')
param applicationInsightsId string

@description('Rules from infra/alerts/alert-rules.json.')
param rules array

@description('Resource ids metric rules can name in metric.resource, e.g. { serviceBusNamespace: <id> }.')
param metricScopes object

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

var logRules = filter(rules, rule => contains(rule, 'query'))
var metricRules = filter(rules, rule => contains(rule, 'metric'))

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in logRules: {
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

// Platform metrics need no telemetry from the app: e.g. Service Bus DeadletteredMessages counts every dead letter,
// whether the broker moved it (deliveries exhausted, expiry) or the dispatcher parked a failed run.
resource metricAlertRules 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for rule in metricRules: {
    name: '${namePrefix}-${rule.name}'
    location: 'global'
    tags: tags
    properties: {
      description: '${rule.displayName}: ${rule.description}'
      severity: rule.severity
      enabled: true
      scopes: [
        metricScopes[rule.metric.resource]
      ]
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      autoMitigate: contains(rule, 'autoMitigate') ? rule.autoMitigate : false
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: rule.name
            metricNamespace: rule.metric.namespace
            metricName: rule.metric.name
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
          }
        ]
      }
      actions: [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
]

output actionGroupId string = actionGroup.id
output alertRuleNames array = concat(
  [for (rule, i) in logRules: alertRules[i].name],
  [for (rule, i) in metricRules: metricAlertRules[i].name]
)
