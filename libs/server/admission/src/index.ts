export * from './lib/admission-keys';
export * from './lib/admission-types';
export * from './lib/admission-store';
export * from './lib/admission-http';
export * from './lib/windows';
