import type { Provider } from '@nestjs/common';
import { AdmissionStore } from '@tollgate/server-admission';
import type Redis from 'ioredis';
import { BILLING_REDIS } from '../common/redis.provider';
import { BILLING_CONFIG, type BillingConfig } from '../config/billing.config';
import { CREDITS_ADMISSION } from './credits.service';

/** The admission counters (balance, spend, limits) on billing's Redis client. */
export const admissionStoreProvider: Provider = {
  provide: CREDITS_ADMISSION,
  inject: [BILLING_REDIS, BILLING_CONFIG],
  useFactory: (redis: Redis, config: BillingConfig) =>
    new AdmissionStore(redis, { prefix: config.TOLLGATE_REDIS_PREFIX }),
};
