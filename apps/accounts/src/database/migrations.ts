import { CreateAccountsTables1795600000000 } from './migrations/1795600000000-CreateAccountsTables';
import { AddLimitsAndOrganisationSettings1795700000000 } from './migrations/1795700000000-AddLimitsAndOrganisationSettings';

/** Every migration, oldest first. */
export const ACCOUNTS_MIGRATIONS = [
  CreateAccountsTables1795600000000,
  AddLimitsAndOrganisationSettings1795700000000,
];
