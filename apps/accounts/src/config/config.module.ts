import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ACCOUNTS_CONFIG, type AccountsConfig } from './accounts.config';

/** Provides the configuration validated at boot; nothing else reads the environment. */
@Global()
@Module({})
export class AccountsConfigModule {
  static forRoot(config: AccountsConfig): DynamicModule {
    return {
      module: AccountsConfigModule,
      providers: [{ provide: ACCOUNTS_CONFIG, useValue: config }],
      exports: [ACCOUNTS_CONFIG],
    };
  }
}
