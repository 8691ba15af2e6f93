import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditAction, AuditService } from '../audit/audit.service';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { UserEntity } from '../users/user.entity';
import { findUserByEmail } from '../users/users.queries';
import { PasswordHasher } from './password-hasher';

export type BootstrapOutcome = 'skipped' | 'created' | 'promoted' | 'unchanged';

/**
 * Makes sure the platform operator named by TOLLGATE_ADMIN_EMAIL exists and is an admin. Idempotent
 * and safe with several replicas starting at once; an existing user keeps their password.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    @Inject(ACCOUNTS_CONFIG) private readonly config: AccountsConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const outcome = await this.ensureAdmin();
    if (outcome !== 'skipped')
      this.logger.log({
        msg: 'platform admin bootstrap',
        email: this.config.TOLLGATE_ADMIN_EMAIL,
        outcome,
      });
  }

  async ensureAdmin(): Promise<BootstrapOutcome> {
    const email = this.config.TOLLGATE_ADMIN_EMAIL;
    const password = this.config.TOLLGATE_ADMIN_PASSWORD;
    if (!email || !password) return 'skipped';
    return this.dataSource.transaction(async (m) => {
      // Serialises concurrent bootstraps (replicas starting together) on the same email.
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `tollgate-admin-bootstrap:${email.toLowerCase()}`,
      ]);
      const existing = await findUserByEmail(m, email);
      if (existing?.isPlatformAdmin) return 'unchanged';
      let userId: string;
      let outcome: BootstrapOutcome;
      if (existing) {
        await m.update(UserEntity, { id: existing.id }, { isPlatformAdmin: true });
        userId = existing.id;
        outcome = 'promoted';
      } else {
        const passwordHash = await this.hasher.hash(password);
        const user = await m.save(
          m.create(UserEntity, { email, passwordHash, isPlatformAdmin: true }),
        );
        userId = user.id;
        outcome = 'created';
      }
      await this.audit.record(m, {
        actorUserId: null,
        organisationId: null,
        action: AuditAction.PlatformAdminBootstrapped,
        targetType: 'user',
        targetId: userId,
        details: { outcome },
      });
      return outcome;
    });
  }
}
