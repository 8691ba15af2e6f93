import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import {
  AccessTokenAuthModule,
  AccessTokenGuard,
  createValidationPipe,
} from '@tollgate/server-kit';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { AlertsModule } from './alerts/alerts.module';
import { BillingExceptionFilter } from './common/billing-exception.filter';
import { BillingRedisModule } from './common/redis.module';
import { BILLING_REDIS } from './common/redis.provider';
import { BillingConfigModule } from './config/billing-config.module';
import type { BillingConfig } from './config/billing.config';
import { CreditsModule } from './credits/credits.module';
import { billingDataSourceOptions } from './database/data-source';
import { HealthModule, postgresCheck } from './health/health.module';
import { OpenApiModule } from './openapi/openapi.module';
import { PricesModule } from './prices/prices.module';
import { ReportsModule } from './reports/reports.module';
import { UsageModule } from './usage/usage.module';

/** The billing API process: price book, usage listing, reports. */
@Module({})
export class BillingApiModule {
  static forRoot(config: BillingConfig): DynamicModule {
    return {
      module: BillingApiModule,
      imports: [
        BillingConfigModule.forRoot(config),
        TypeOrmModule.forRoot({
          ...billingDataSourceOptions(config),
          retryAttempts: 2,
          retryDelay: 1_000,
        }),
        BillingRedisModule,
        AccessTokenAuthModule.forRoot(config.JWT_SECRET),
        PricesModule,
        UsageModule,
        ReportsModule,
        CreditsModule,
        AlertsModule,
        OpenApiModule,
        HealthModule.forRoot({
          inject: [getDataSourceToken(), BILLING_REDIS],
          useFactory: (dataSource: DataSource, redis: Redis) => [
            postgresCheck(dataSource),
            { name: 'redis', check: async () => void (await redis.ping()) },
          ],
        }),
      ],
      providers: [
        { provide: APP_GUARD, useExisting: AccessTokenGuard },
        { provide: APP_FILTER, useClass: BillingExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
