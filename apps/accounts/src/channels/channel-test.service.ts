import { Inject, Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  ChannelEventKind,
  type ChannelTestResponseDto,
  type TestChannelRequestDto,
} from '@tollgate/contracts';
import { SecretBox } from '@tollgate/server-kit';
import { DataSource } from 'typeorm';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import type { ChannelEntity } from './channel.entity';
import { ChannelEventsService } from './channel-events.service';
import { type ProbeOutcome, probeChannel } from './channel-probe';
import { ChannelsService } from './channels.service';

/** A test waits this long unless the channel's own timeouts are shorter… */
export const CHANNEL_TEST_DEFAULT_TIMEOUT_MS = 30_000;
/** …and never longer than this, whatever they say. */
export const CHANNEL_TEST_MAX_TIMEOUT_MS = 60_000;

/** The bound of one test: the channel's first-byte and total timeouts, the default, the cap. */
export function testTimeoutMs(channel: ChannelEntity): number {
  const own = [channel.firstByteTimeoutMs, channel.totalTimeoutMs].filter(
    (v): v is number => v !== null,
  );
  return Math.min(
    CHANNEL_TEST_MAX_TIMEOUT_MS,
    ...(own.length ? own : [CHANNEL_TEST_DEFAULT_TIMEOUT_MS]),
  );
}

/**
 * `POST …/test`: one real request to the provider with the channel's credential (opened in memory
 * for this request only), recorded as a channel event. The channel's status is left alone: a
 * failed test is information, the proxy's own reports are what disable a channel.
 */
@Injectable()
export class ChannelTestService {
  private readonly box: SecretBox;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channels: ChannelsService,
    private readonly events: ChannelEventsService,
    private readonly audit: AuditService,
    @Inject(ACCOUNTS_CONFIG) config: AccountsConfig,
  ) {
    this.box = new SecretBox(config.TOLLGATE_ENCRYPTION_KEY);
  }

  async test(
    caller: AccessTokenClaims,
    channelId: string,
    dto: TestChannelRequestDto,
  ): Promise<ChannelTestResponseDto> {
    const channel = await this.channels.loadFor(caller, channelId);
    const model = dto.model?.trim() ?? channel.models[0];
    if (model === undefined || !channel.models.includes(model)) {
      const problem = `model must be one of the channel's models (${channel.models.slice(0, 20).join(', ')})`;
      throw new AccountsException(AccountsErrorCode.ValidationFailed, problem, {
        errors: [problem],
      });
    }
    const upstreamModel = channel.modelMapping[model] ?? model;
    const outcome = await this.probe(channel, model, upstreamModel);
    const result: ChannelTestResponseDto = {
      ok: outcome.ok,
      status: outcome.status,
      latencyMs: outcome.latencyMs,
      model,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    };
    await this.dataSource.transaction(async (m) => {
      await this.events.record(m, channel.id, ChannelEventKind.Test, {
        ...result,
        upstreamModel,
        userId: caller.sub,
      });
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: channel.organisationId,
        action: AuditAction.ChannelTested,
        targetType: 'channel',
        targetId: channel.id,
        details: { model, ok: result.ok, status: result.status, latencyMs: result.latencyMs },
      });
    });
    return result;
  }

  private async probe(
    channel: ChannelEntity,
    model: string,
    upstreamModel: string,
  ): Promise<ProbeOutcome> {
    let apiKey: string;
    try {
      apiKey = this.box.open(channel.encryptedApiKey, channel.id);
    } catch {
      return {
        ok: false,
        status: null,
        latencyMs: 0,
        error: 'the stored credential does not open with the configured TOLLGATE_ENCRYPTION_KEY',
      };
    }
    return probeChannel(
      {
        type: channel.type,
        baseUrl: channel.baseUrl,
        apiKey,
        upstreamModel,
        extraHeaders: channel.extraHeaders,
        ...(channel.apiVersion !== null ? { apiVersion: channel.apiVersion } : {}),
      },
      model,
      testTimeoutMs(channel),
    );
  }
}
