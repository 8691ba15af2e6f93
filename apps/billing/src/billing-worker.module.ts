import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { bullConnection, createValidationPipe } from '@tollgate/server-kit';
import type { DataSource } from 'typeorm';
import { AlertsWorkerModule } from './alerts/alerts-worker.module';
import { BillingExceptionFilter } from './common/billing-exception.filter';
import { BillingRedisModule } from './common/redis.module';
import { BillingConfigModule } from './config/billing-config.module';
import type { BillingWorkerConfig } from './config/billing.config';
import { billingDataSourceOptions } from './database/data-source';
import { HealthModule, postgresCheck } from './health/health.module';
import { LedgerModule } from './ledger/ledger.module';
import { UsageProcessor } from './ledger/usage.processor';
import { ReconciliationSchedulerModule } from './reconciliation/reconciliation.module';

/** The billing worker process: consumes usage events; serves only its health endpoints. */
@Module({})
export class BillingWorkerModule {
  static forRoot(config: BillingWorkerConfig): DynamicModule {
    return {
      module: BillingWorkerModule,
      imports: [
        BillingConfigModule.forRoot(config),
        TypeOrmModule.forRoot({
          ...billingDataSourceOptions(config),
          retryAttempts: 2,
          retryDelay: 1_000,
        }),
        BullModule.forRoot({
          connection: bullConnection(config.REDIS_URL),
          prefix: config.TOLLGATE_QUEUE_PREFIX,
        }),
        AlertsWorkerModule,
        LedgerModule,
        BillingRedisModule,
        ReconciliationSchedulerModule,
        HealthModule.forRoot({
          imports: [LedgerModule],
          inject: [getDataSourceToken(), UsageProcessor],
          useFactory: (dataSource: DataSource, processor: UsageProcessor) => [
            postgresCheck(dataSource),
            { name: 'redis', check: () => processor.ping() },
            {
              name: 'worker',
              check: async () => {
                if (!processor.isConsuming()) throw new Error('the usage worker is not consuming');
              },
            },
          ],
        }),
      ],
      providers: [
        { provide: APP_FILTER, useClass: BillingExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
