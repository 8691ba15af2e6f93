import { Inject, Injectable, Logger } from '@nestjs/common';
import { SecretBox } from '@tollgate/server-kit';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { REDIS } from '../redis/redis.module';
import type { LimitTarget } from './limits-projection';
import { ProjectionWriter, type RebuildReport } from './projection-writer';

/**
 * How a failed projection write after a committed change is reported. `strict` (revocations,
 * updates): the caller gets a 503 and retries, which re-projects. `lenient` (creations, whose
 * missing record only means "not usable yet"): logged; the next rebuild repairs it.
 */
export type ProjectionFailureMode = 'strict' | 'lenient';

@Injectable()
export class ProjectionsService {
  private readonly logger = new Logger(ProjectionsService.name);
  private readonly writer: ProjectionWriter;

  constructor(
    dataSource: DataSource,
    @Inject(REDIS) redis: Redis,
    @Inject(ACCOUNTS_CONFIG) config: AccountsConfig,
  ) {
    this.writer = new ProjectionWriter(
      dataSource,
      redis,
      config.TOLLGATE_REDIS_PREFIX,
      this.logger,
      new SecretBox(config.TOLLGATE_ENCRYPTION_KEY),
    );
  }

  keysChanged(keyIds: readonly string[], mode: ProjectionFailureMode): Promise<void> {
    return this.guard(() => this.writer.syncKeys(keyIds), mode, { keyIds });
  }

  tenantChanged(tenantId: string, mode: ProjectionFailureMode): Promise<void> {
    return this.guard(() => this.writer.syncTenantKeys(tenantId), mode, { tenantId });
  }

  organisationChanged(organisationId: string, mode: ProjectionFailureMode): Promise<void> {
    return this.guard(() => this.writer.syncOrganisationKeys(organisationId), mode, {
      organisationId,
    });
  }

  limitsChanged(target: LimitTarget, mode: ProjectionFailureMode): Promise<void> {
    return this.guard(() => this.writer.syncLimits(target), mode, { limits: target });
  }

  /** The admission store over the same Redis and prefix (live counters for the limits API). */
  get admission() {
    return this.writer.limits.store;
  }

  channelChanged(channelId: string, mode: ProjectionFailureMode): Promise<void> {
    return this.guard(() => this.writer.syncChannel(channelId), mode, { channelId });
  }

  /** Everything from PostgreSQL (the rebuild-projections entry runs the same writer). */
  rebuildAll(): Promise<RebuildReport> {
    return this.writer.rebuildAll();
  }

  private async guard(
    write: () => Promise<void>,
    mode: ProjectionFailureMode,
    subject: Record<string, unknown>,
  ): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.logger.error({
        msg: 'projection write failed; the change is saved, run rebuild-projections if it persists',
        ...subject,
        error: err instanceof Error ? err.message : String(err),
      });
      if (mode === 'strict') {
        throw new AccountsException(
          AccountsErrorCode.ProjectionUnavailable,
          'the change is saved but could not be propagated to the gateway yet; retry the request',
          { retryAfterSeconds: 1, cause: err },
        );
      }
    }
  }
}
