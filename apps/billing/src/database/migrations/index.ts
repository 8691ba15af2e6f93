import { CreatePriceBook1795604245224 } from './1795604245224-CreatePriceBook';
import { CreateUsageLedger1795604245225 } from './1795604245225-CreateUsageLedger';
import { CreateCreditsAndAlerts1795700000000 } from './1795700000000-CreateCreditsAndAlerts';
import { AddAlertSettingsAndDelivery1796140311397 } from './1796140311397-AddAlertSettingsAndDelivery';

/** Every migration, in order; listed by hand so a build or bundle cannot lose one to a glob. */
export const BILLING_MIGRATIONS = [
  CreatePriceBook1795604245224,
  CreateUsageLedger1795604245225,
  CreateCreditsAndAlerts1795700000000,
  AddAlertSettingsAndDelivery1796140311397,
];
