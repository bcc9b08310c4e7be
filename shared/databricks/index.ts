export * from './auth';
export * from './client';
export * from './errors';
export * from './rateBudget';
export * from './schemas';
