import type { LoggerService } from '@nestjs/common';
import type { MeResponseDto } from '@tollgate/contracts';
import { AuditService } from '../audit/audit.service';
import type { AccountsConfig } from '../config/accounts.config';
import {
  type AccountsTestApp,
  startAccountsTestApp,
  uniqueEmail,
} from '../testing/accounts-test-app';
import { UserEntity } from '../users/user.entity';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { PasswordHasher } from './password-hasher';

const ADMIN_PASSWORD = 'bootstrap password 123';

/** Keeps every log line, to prove the password never appears. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private keep = (...parts: unknown[]) => void this.lines.push(JSON.stringify(parts));
  log = this.keep;
  error = this.keep;
  warn = this.keep;
  debug = this.keep;
  verbose = this.keep;
  fatal = this.keep;
}

describe('platform admin bootstrap (int)', () => {
  const adminEmail = uniqueEmail('operator');
  const logger = new CapturingLogger();
  let sut: AccountsTestApp;

  beforeAll(async () => {
    sut = await startAccountsTestApp(
      'bootstrap',
      { TOLLGATE_ADMIN_EMAIL: adminEmail, TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD },
      { logger },
    );
  });

  afterAll(async () => {
    await sut?.close();
  });

  const bootstrapWith = (overrides: Partial<AccountsConfig>) =>
    new AdminBootstrapService(
      sut.db,
      sut.app.get(PasswordHasher, { strict: false }),
      new AuditService(),
      {
        ...sut.config,
        ...overrides,
      } as AccountsConfig,
    );

  it('creates the platform admin at start, who can sign in', async () => {
    const token = await sut.login(adminEmail, ADMIN_PASSWORD);

    const me = await sut.api<MeResponseDto>('GET', '/api/v1/me', { token });

    expect(me.body).toMatchObject({ email: adminEmail, isPlatformAdmin: true, memberships: [] });
  });

  it('is idempotent: a second run changes nothing', async () => {
    const users = await sut.db.getRepository(UserEntity).count();
    const row = await sut.db.getRepository(UserEntity).findOneByOrFail({ email: adminEmail });

    const outcome = await bootstrapWith({}).ensureAdmin();

    expect(outcome).toBe('unchanged');
    expect(await sut.db.getRepository(UserEntity).count()).toBe(users);
    expect(
      (await sut.db.getRepository(UserEntity).findOneByOrFail({ email: adminEmail })).passwordHash,
    ).toBe(row.passwordHash);
  });

  it('survives concurrent runs (several replicas starting together)', async () => {
    const email = uniqueEmail('concurrent');

    const outcomes = await Promise.all(
      [1, 2, 3].map(() => bootstrapWith({ TOLLGATE_ADMIN_EMAIL: email }).ensureAdmin()),
    );

    expect(outcomes.sort()).toEqual(['created', 'unchanged', 'unchanged']);
    const rows = await sut.db.query(
      `SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)`,
      [email],
    );
    expect(rows[0].n).toBe(1);
  });

  it('promotes an existing user and keeps their password', async () => {
    const user = await sut.signup();

    const outcome = await bootstrapWith({
      TOLLGATE_ADMIN_EMAIL: user.user.email.toUpperCase(),
      TOLLGATE_ADMIN_PASSWORD: 'a different password',
    }).ensureAdmin();

    expect(outcome).toBe('promoted');
    const token = await sut.login(user.user.email, user.password);
    const me = await sut.api<MeResponseDto>('GET', '/api/v1/me', { token });
    expect(me.body.isPlatformAdmin).toBe(true);
    const wrong = await sut.api('POST', '/api/v1/auth/login', {
      body: { email: user.user.email, password: 'a different password' },
    });
    expect(wrong.status).toBe(401);
  });

  it('does nothing without both variables', async () => {
    await expect(bootstrapWith({ TOLLGATE_ADMIN_EMAIL: undefined }).ensureAdmin()).resolves.toBe(
      'skipped',
    );
  });

  it('never logs the password', () => {
    expect(logger.lines.join('\n')).toContain(adminEmail);
    expect(logger.lines.join('\n')).not.toContain(ADMIN_PASSWORD);
  });
});
