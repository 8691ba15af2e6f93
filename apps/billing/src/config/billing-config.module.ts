import { type DynamicModule, Global, Module } from '@nestjs/common';
import { BILLING_CONFIG, type BillingWorkerConfig } from './billing.config';

/** Makes the validated config injectable everywhere as `BILLING_CONFIG`. */
@Global()
@Module({})
export class BillingConfigModule {
  static forRoot(config: BillingWorkerConfig): DynamicModule {
    return {
      module: BillingConfigModule,
      providers: [{ provide: BILLING_CONFIG, useValue: config }],
      exports: [BILLING_CONFIG],
    };
  }
}
