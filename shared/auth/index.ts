export * from './caller';
export * from './errors';
export * from './jwt';
