import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { loadConfig } from '@tollgate/server-kit';
import { BillingRedisModule } from '../common/redis.module';
import { BillingConfigModule } from '../config/billing-config.module';
import { BillingWorkerConfig } from '../config/billing.config';
import { billingDataSourceOptions } from '../database/data-source';
import { ReconciliationModule } from './reconciliation.module';
import { ReconciliationService } from './reconciliation.service';

/** One reconciliation run: `node reconcile.cli.js [orgId…]`; prints the report as JSON. */
async function main(): Promise<void> {
  const config = loadConfig(BillingWorkerConfig, process.env);
  @Module({
    imports: [
      BillingConfigModule.forRoot(config),
      TypeOrmModule.forRoot(billingDataSourceOptions(config)),
      BillingRedisModule,
      ReconciliationModule,
    ],
  })
  class ReconcileCliModule {}
  const app = await NestFactory.createApplicationContext(ReconcileCliModule, {
    logger: ['error', 'warn'],
  });
  try {
    const orgIds = process.argv.slice(2);
    const report = await app.get(ReconciliationService).reconcile(orgIds.length ? { orgIds } : {});
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await app.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
