import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QueueName } from '@tollgate/contracts';
import { PriceLookupService } from '../prices/price-lookup.service';
import { UsageProcessor } from './usage.processor';
import { UsageLedgerWriter } from './usage-ledger.writer';

/** The usage consumer: prices events and writes the ledger (worker process). */
@Module({
  // registering the queue also installs @nestjs/bullmq's explorer, which starts the processor's worker
  imports: [BullModule.registerQueue({ name: QueueName.Usage })],
  providers: [UsageProcessor, UsageLedgerWriter, PriceLookupService],
  exports: [UsageProcessor],
})
export class LedgerModule {}
