import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { QueueName } from '@tollgate/contracts';
import { AlertDeliveryProcessor } from './alert-delivery.processor';
import { AlertEvaluator, alertsAdmissionProvider } from './alert-evaluator.service';
import { alertSecretBoxProvider } from './alert-secrets';

/**
 * Budget alerts in the worker process: the evaluator the usage processor calls after booking a row,
 * and the webhook deliveries. Global so the ledger module can inject the evaluator without importing
 * this one.
 */
@Global()
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Alerts })],
  providers: [
    AlertEvaluator,
    AlertDeliveryProcessor,
    alertsAdmissionProvider,
    alertSecretBoxProvider,
  ],
  exports: [AlertEvaluator],
})
export class AlertsWorkerModule {}
