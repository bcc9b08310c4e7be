export * from './alerts/index';
export * from './dashboard/index';
