export { startDashboard, type Dashboard, type DashboardOptions } from './server';
export { buildSnapshot, runView, type DashboardSnapshot, type RunView, type SourceView } from './snapshot';
