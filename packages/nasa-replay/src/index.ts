export * from './corpus';
export * from './coverage';
export * from './meteoriteCsv';
export * from './records';
export * from './server';
