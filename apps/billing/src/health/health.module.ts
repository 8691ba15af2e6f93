import {
  type DynamicModule,
  type FactoryProvider,
  Module,
  type ModuleMetadata,
} from '@nestjs/common';
import { HealthController } from './health.controller';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness';

export interface HealthModuleOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  /** the dependencies this process needs, each as a named check */
  useFactory: (...deps: never[]) => ReadinessCheck[];
}

/** `/health/live` and `/health/ready`; each process supplies its own readiness checks. */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [
        { provide: READINESS_CHECKS, inject: options.inject ?? [], useFactory: options.useFactory },
      ],
    };
  }
}

/** PostgreSQL answers a query on the app's pool. */
export function postgresCheck(dataSource: {
  query(sql: string): Promise<unknown>;
}): ReadinessCheck {
  return { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) };
}
