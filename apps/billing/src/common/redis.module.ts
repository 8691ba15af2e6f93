import { Global, Module } from '@nestjs/common';
import { BILLING_REDIS, BillingRedisCloser, billingRedisProvider } from './redis.provider';

@Global()
@Module({
  providers: [billingRedisProvider, BillingRedisCloser],
  exports: [BILLING_REDIS],
})
export class BillingRedisModule {}
