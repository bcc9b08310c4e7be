export * from './corpus';
export * from './server';
