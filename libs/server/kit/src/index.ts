export * from './lib/config';
export * from './lib/secret-box';
export * from './lib/redis';
export * from './lib/problem';
export * from './lib/validation';
export * from './lib/json-logger';
export * from './lib/auth';
export * from './lib/listen';
