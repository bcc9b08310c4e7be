export * from './rules';
export * from './data';
export * from './evaluator';
