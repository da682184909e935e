export * from './config';
export * from './declaration';
export * from './errors';
export * from './keys';
export * from './secret';
export * from './variables';
