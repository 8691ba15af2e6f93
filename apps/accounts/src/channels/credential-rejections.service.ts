import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  ChannelEventKind,
  channelHealthKeys,
  ChannelStatusReason,
  type RejectedCredentialEntry,
} from '@tollgate/contracts';
import { closeRedis } from '@tollgate/server-kit';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AuditAction, AuditService } from '../audit/audit.service';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { ProjectionsService } from '../projections/projections.service';
import { createAccountsRedis } from '../redis/redis.module';
import { ChannelEntity } from './channel.entity';
import { ChannelEventsService } from './channel-events.service';
import { credentialFingerprint } from './channel-settings';
import { RejectedCredentials } from './rejected-credentials';

/** Re-read of the whole list, for reports missed while Redis or PostgreSQL was away. */
const RESCAN_INTERVAL_MS = 60_000;

/** What applying one report did. */
export type RejectionOutcome =
  /** the channel was disabled and the event recorded */
  | 'disabled'
  /** this credential's refusal was applied before */
  | 'already_applied'
  /** the credential has been replaced since (or the channel is gone): nothing to do */
  | 'stale';

/**
 * Consumes the proxy's reports of refused channel credentials: subscribes to
 * `channelHealthKeys.channelEvents` and reads the whole `channelHealthKeys.rejected` hash at start,
 * on every (re)connection and every minute, so nothing reported while accounts was down is lost.
 * Each report disables the channel (reason `credentials_rejected`), records a channel event and an
 * audit entry, and re-projects it, once per refused credential; several accounts replicas may
 * race, the row lock makes one of them apply it.
 */
@Injectable()
export class CredentialRejectionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CredentialRejectionsService.name);
  private readonly prefix: string;
  private sub: Redis | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** reports are applied one at a time, in arrival order */
  private tail: Promise<unknown> = Promise.resolve();
  private lastWarning = 0;

  constructor(
    @Inject(ACCOUNTS_CONFIG) private readonly config: AccountsConfig,
    private readonly dataSource: DataSource,
    private readonly rejected: RejectedCredentials,
    private readonly events: ChannelEventsService,
    private readonly audit: AuditService,
    private readonly projections: ProjectionsService,
  ) {
    this.prefix = config.TOLLGATE_REDIS_PREFIX;
  }

  onApplicationBootstrap(): void {
    if (this.sub) return;
    const sub = createAccountsRedis(this.config.REDIS_URL, this.logger);
    this.sub = sub;
    sub.on('ready', () => {
      sub
        .subscribe(channelHealthKeys.channelEvents(this.prefix))
        .then(() => this.scan())
        .catch((err: unknown) => this.warn('subscribing to channel events failed', err));
    });
    sub.on('message', (_channel: string, message: string) => this.onMessage(message));
    this.timer = setInterval(() => {
      this.scan().catch((err: unknown) => this.warn('reading refused credentials failed', err));
    }, RESCAN_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const sub = this.sub;
    this.sub = null;
    if (sub) await closeRedis(sub);
    await this.tail.catch(() => undefined);
  }

  /** Applies every report in the shared list (each at most once). */
  scan(): Promise<void> {
    return this.enqueue(async () => {
      for (const [channelId, entry] of await this.rejected.all())
        await this.applyLogged(channelId, entry);
    });
  }

  private onMessage(message: string): void {
    let channelId: unknown;
    try {
      channelId = (JSON.parse(message) as Record<string, unknown>).channelId;
    } catch {
      return;
    }
    if (typeof channelId !== 'string' || channelId.length > 64) return;
    // the hash holds the fingerprint the message lacks, and is the record of truth
    this.enqueue(async () => {
      const entry = await this.rejected.get(channelId);
      if (entry) await this.applyLogged(channelId, entry);
    }).catch((err: unknown) => this.warn('applying a refused credential failed', err));
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async applyLogged(channelId: string, entry: RejectedCredentialEntry): Promise<void> {
    const outcome = await this.apply(channelId, entry);
    if (outcome === 'disabled') {
      this.logger.warn({
        msg: 'channel disabled: the provider refused its credential',
        channelId,
        status: entry.status,
      });
    }
  }

  /** Applies one report; idempotent. */
  async apply(channelId: string, entry: RejectedCredentialEntry): Promise<RejectionOutcome> {
    if (!/^[0-9a-f-]{36}$/i.test(channelId)) return 'stale';
    const outcome = await this.dataSource.transaction(async (m): Promise<RejectionOutcome> => {
      const channel = await m.findOne(ChannelEntity, {
        where: { id: channelId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!channel || credentialFingerprint(channel.encryptedApiKey) !== entry.credential)
        return 'stale';
      if (channel.rejectedCredential === entry.credential) return 'already_applied';
      await m.update(
        ChannelEntity,
        { id: channel.id },
        {
          status: 'disabled',
          statusReason: ChannelStatusReason.CredentialsRejected,
          rejectedCredential: entry.credential,
        },
      );
      const detail = {
        status: entry.status,
        reportedAt: entry.at,
        credential: entry.credential,
        previousStatus: channel.status,
      };
      await this.events.record(m, channel.id, ChannelEventKind.CredentialsRejected, detail);
      await this.audit.record(m, {
        actorUserId: null,
        organisationId: channel.organisationId,
        action: AuditAction.ChannelCredentialsRejected,
        targetType: 'channel',
        targetId: channel.id,
        details: detail,
      });
      return 'disabled';
    });
    // lenient: every proxy already skips the channel through the shared list
    if (outcome === 'disabled') await this.projections.channelChanged(channelId, 'lenient');
    return outcome;
  }

  private warn(what: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger.warn({ msg: `${what}: ${err instanceof Error ? err.message : String(err)}` });
  }
}
