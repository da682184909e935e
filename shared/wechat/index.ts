export * from './jscode2session';
