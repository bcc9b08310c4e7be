export { startDashboard, type Dashboard, type DashboardOptions } from './server';
export { startLocalMonitoring, type LocalMonitoring, type LocalMonitoringOptions } from './monitoring';
export { buildSnapshot, runView, type DashboardSnapshot, type RunView, type SourceView } from './snapshot';
export { formatHeadlines, readHeadlines, writeStaticDashboard, type InsightsView } from './insights';
