import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessTokenAuthModule, AccessTokenGuard } from '@tollgate/server-kit';
import { AccessModule } from './access/access.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ChannelsModule } from './channels/channels.module';
import { ProblemFilter } from './common/problem.filter';
import type { AccountsConfig } from './config/accounts.config';
import { AccountsConfigModule } from './config/config.module';
import { accountsDataSourceOptions } from './database/data-source-options';
import { HealthModule } from './health/health.module';
import { KeysModule } from './keys/keys.module';
import { LimitsModule } from './limits/limits.module';
import { OpenApiModule } from './openapi/openapi.module';
import { OrganisationsModule } from './organisations/organisations.module';
import { ProjectionsModule } from './projections/projections.module';
import { RedisModule } from './redis/redis.module';
import { TenantsModule } from './tenants/tenants.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AccountsAppModule {
  static forRoot(config: AccountsConfig): DynamicModule {
    return {
      module: AccountsAppModule,
      imports: [
        AccountsConfigModule.forRoot(config),
        TypeOrmModule.forRoot({
          ...accountsDataSourceOptions(config),
          retryAttempts: 3,
          retryDelay: 1_000,
        }),
        RedisModule,
        AccessTokenAuthModule.forRoot(config.JWT_SECRET),
        AuditModule,
        AccessModule,
        ProjectionsModule,
        AuthModule,
        UsersModule,
        OrganisationsModule,
        TenantsModule,
        KeysModule,
        ChannelsModule,
        LimitsModule,
        HealthModule,
        OpenApiModule,
      ],
      providers: [
        { provide: APP_GUARD, useExisting: AccessTokenGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
