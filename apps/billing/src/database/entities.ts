import { PriceEntity } from '../prices/price.entity';
import { UsageDailyRollupEntity } from '../usage/usage-daily-rollup.entity';
import { UsageLedgerEntity } from '../usage/usage-ledger.entity';

export const BILLING_ENTITIES = [PriceEntity, UsageLedgerEntity, UsageDailyRollupEntity];
