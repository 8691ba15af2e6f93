export * from './lib/test-env';
export * from './lib/wait-for';
export * from './lib/free-port';
