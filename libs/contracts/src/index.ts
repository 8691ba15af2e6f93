import 'reflect-metadata';

export * from './lib/roles';
export * from './lib/money';
export * from './lib/pagination';
export * from './lib/auth.dto';
export * from './lib/tenants.dto';
export * from './lib/keys.dto';
export * from './lib/channels.dto';
export * from './lib/prices.dto';
export * from './lib/usage.dto';
export * from './lib/usage-event';
export * from './lib/queues';
export * from './lib/projections';
export * from './lib/errors';
export * from './lib/accounts-management.dto';
export * from './lib/limits.dto';
export * from './lib/credits.dto';
export * from './lib/alerts.dto';
