import { CreateAccountsTables1795600000000 } from './migrations/1795600000000-CreateAccountsTables';
import { AddLimitsAndOrganisationSettings1795700000000 } from './migrations/1795700000000-AddLimitsAndOrganisationSettings';
import { AddChannelSettingsAndEvents1795800000000 } from './migrations/1795800000000-AddChannelSettingsAndEvents';
import { AddScopeModelLimits1795900000000 } from './migrations/1795900000000-AddScopeModelLimits';

/** Every migration, oldest first. */
export const ACCOUNTS_MIGRATIONS = [
  CreateAccountsTables1795600000000,
  AddLimitsAndOrganisationSettings1795700000000,
  AddChannelSettingsAndEvents1795800000000,
  AddScopeModelLimits1795900000000,
];
