import { CreateAccountsTables1795600000000 } from './migrations/1795600000000-CreateAccountsTables';

/** Every migration, oldest first. */
export const ACCOUNTS_MIGRATIONS = [CreateAccountsTables1795600000000];
