import { AlertWebhookEntity, BudgetAlertEntity } from '../alerts/alert.entities';
import { CreditGrantEntity, RedemptionCodeEntity } from '../credits/credit.entities';
import { PriceEntity } from '../prices/price.entity';
import { UsageDailyRollupEntity } from '../usage/usage-daily-rollup.entity';
import { UsageLedgerEntity } from '../usage/usage-ledger.entity';

export const BILLING_ENTITIES = [
  PriceEntity,
  UsageLedgerEntity,
  UsageDailyRollupEntity,
  CreditGrantEntity,
  RedemptionCodeEntity,
  AlertWebhookEntity,
  BudgetAlertEntity,
];
