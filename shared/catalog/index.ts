export * from './loader';
export * from './params';
export * from './resolver';
export * from './retryPolicy';
export * from './schema';
