import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type ChannelResponseDto,
  ChannelStatusReason,
  ChannelType,
  type CreateChannelRequestDto,
  DEFAULT_TENANT_GROUP,
  type Page,
  type PageQueryDto,
  type UpdateChannelRequestDto,
} from '@tollgate/contracts';
import { SecretBox } from '@tollgate/server-kit';
import { DataSource } from 'typeorm';
import { OrgAccessService } from '../access/org-access.service';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { iso } from '../common/dates';
import { keysetPage } from '../common/pagination';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { ProjectionsService } from '../projections/projections.service';
import { ChannelEntity } from './channel.entity';
import {
  type ChannelSettings,
  channelSettingsProblems,
  normaliseExtraHeaders,
} from './channel-settings';
import { modelMappingProblems } from './model-mapping';
import { RejectedCredentials } from './rejected-credentials';

/** Never includes the credential, not even encrypted. */
export function toChannelResponse(c: ChannelEntity): ChannelResponseDto {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    baseUrl: c.baseUrl,
    models: c.models,
    modelMapping: c.modelMapping,
    priority: c.priority,
    weight: c.weight,
    groups: c.groups,
    status: c.status,
    statusReason: c.statusReason,
    apiVersion: c.apiVersion,
    extraHeaders: c.extraHeaders,
    connectTimeoutMs: c.connectTimeoutMs,
    firstByteTimeoutMs: c.firstByteTimeoutMs,
    totalTimeoutMs: c.totalTimeoutMs,
    createdAt: iso(c.createdAt),
  };
}

const unique = (values: string[]): string[] => [...new Set(values.map((v) => v.trim()))];
const trimBaseUrl = (url: string): string => url.replace(/\/+$/, '');

function refuse(problems: string[]): void {
  if (problems.length) {
    throw new AccountsException(AccountsErrorCode.ValidationFailed, problems.join('; '), {
      errors: problems,
    });
  }
}

function checkMapping(mapping: Record<string, unknown> | undefined): void {
  if (mapping !== undefined) refuse(modelMappingProblems(mapping));
}

/** Provider channels: platform operators only. Credentials are sealed with the channel id as associated data. */
@Injectable()
export class ChannelsService {
  private readonly box: SecretBox;

  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrgAccessService,
    private readonly audit: AuditService,
    private readonly projections: ProjectionsService,
    private readonly rejected: RejectedCredentials,
    @Inject(ACCOUNTS_CONFIG) config: AccountsConfig,
  ) {
    this.box = new SecretBox(config.TOLLGATE_ENCRYPTION_KEY);
  }

  async list(caller: AccessTokenClaims, query: PageQueryDto): Promise<Page<ChannelResponseDto>> {
    await this.access.requirePlatformAdmin(caller);
    const qb = this.dataSource.getRepository(ChannelEntity).createQueryBuilder('c');
    return keysetPage(qb, 'c', query, toChannelResponse);
  }

  async get(caller: AccessTokenClaims, channelId: string): Promise<ChannelResponseDto> {
    return toChannelResponse(await this.loadFor(caller, channelId));
  }

  /** The channel, when the caller may manage it (the rule every channel route shares). */
  async loadFor(caller: AccessTokenClaims, channelId: string): Promise<ChannelEntity> {
    await this.access.requirePlatformAdmin(caller);
    const channel = await this.dataSource
      .getRepository(ChannelEntity)
      .findOne({ where: { id: channelId } });
    if (!channel) throw new AccountsException(AccountsErrorCode.ChannelNotFound);
    return channel;
  }

  async create(
    caller: AccessTokenClaims,
    dto: CreateChannelRequestDto,
  ): Promise<ChannelResponseDto> {
    await this.access.requirePlatformAdmin(caller);
    checkMapping(dto.modelMapping);
    const settings: ChannelSettings = {
      type: dto.type,
      apiVersion: dto.apiVersion ?? null,
      connectTimeoutMs: dto.connectTimeoutMs ?? null,
      firstByteTimeoutMs: dto.firstByteTimeoutMs ?? null,
      totalTimeoutMs: dto.totalTimeoutMs ?? null,
    };
    refuse(channelSettingsProblems(settings));
    const id = randomUUID();
    const channel = await this.dataSource.transaction(async (m) => {
      const saved = await m.save(
        m.create(ChannelEntity, {
          id,
          organisationId: null,
          name: dto.name.trim(),
          baseUrl: trimBaseUrl(dto.baseUrl),
          encryptedApiKey: this.box.seal(dto.apiKey, id),
          models: unique(dto.models),
          modelMapping: dto.modelMapping ?? {},
          priority: dto.priority ?? 0,
          weight: dto.weight ?? 1,
          groups: dto.groups ? unique(dto.groups) : [DEFAULT_TENANT_GROUP],
          status: 'enabled',
          statusReason: null,
          rejectedCredential: null,
          extraHeaders: normaliseExtraHeaders(dto.extraHeaders),
          ...settings,
        }),
      );
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: null,
        action: AuditAction.ChannelCreated,
        targetType: 'channel',
        targetId: id,
        details: {
          name: saved.name,
          type: saved.type,
          baseUrl: saved.baseUrl,
          models: saved.models,
          // names only: header values may be secrets of their own
          extraHeaders: Object.keys(saved.extraHeaders),
        },
      });
      return saved;
    });
    await this.projections.channelChanged(id, 'lenient');
    return toChannelResponse(channel);
  }

  async update(
    caller: AccessTokenClaims,
    channelId: string,
    dto: UpdateChannelRequestDto,
  ): Promise<ChannelResponseDto> {
    const channel = await this.loadFor(caller, channelId);
    checkMapping(dto.modelMapping);
    const changes: Partial<ChannelEntity> = {};
    if (dto.name !== undefined) changes.name = dto.name.trim();
    if (dto.baseUrl !== undefined) changes.baseUrl = trimBaseUrl(dto.baseUrl);
    if (dto.apiKey !== undefined) changes.encryptedApiKey = this.box.seal(dto.apiKey, channel.id);
    if (dto.models !== undefined) changes.models = unique(dto.models);
    if (dto.modelMapping !== undefined) changes.modelMapping = dto.modelMapping;
    if (dto.priority !== undefined) changes.priority = dto.priority;
    if (dto.weight !== undefined) changes.weight = dto.weight;
    if (dto.groups !== undefined) changes.groups = unique(dto.groups);
    if (dto.type !== undefined) changes.type = dto.type;
    if (dto.apiVersion !== undefined) changes.apiVersion = dto.apiVersion;
    // leaving azure drops the api-version it needed, unless the request says otherwise
    else if (dto.type !== undefined && dto.type !== ChannelType.Azure) changes.apiVersion = null;
    if (dto.extraHeaders !== undefined)
      changes.extraHeaders = normaliseExtraHeaders(dto.extraHeaders);
    if (dto.connectTimeoutMs !== undefined) changes.connectTimeoutMs = dto.connectTimeoutMs;
    if (dto.firstByteTimeoutMs !== undefined) changes.firstByteTimeoutMs = dto.firstByteTimeoutMs;
    if (dto.totalTimeoutMs !== undefined) changes.totalTimeoutMs = dto.totalTimeoutMs;
    if (dto.status !== undefined) {
      changes.status = dto.status;
      if (dto.status === 'enabled') {
        // an admin's enable is the one thing that lifts a credential rejection
        changes.statusReason = null;
        changes.rejectedCredential = null;
      } else if (channel.status !== 'disabled') {
        changes.statusReason = ChannelStatusReason.Admin;
      }
    }
    if (!Object.keys(changes).length) return toChannelResponse(channel);
    refuse(
      channelSettingsProblems({
        type: changes.type ?? channel.type,
        apiVersion: changes.apiVersion !== undefined ? changes.apiVersion : channel.apiVersion,
        connectTimeoutMs:
          changes.connectTimeoutMs !== undefined
            ? changes.connectTimeoutMs
            : channel.connectTimeoutMs,
        firstByteTimeoutMs:
          changes.firstByteTimeoutMs !== undefined
            ? changes.firstByteTimeoutMs
            : channel.firstByteTimeoutMs,
        totalTimeoutMs:
          changes.totalTimeoutMs !== undefined ? changes.totalTimeoutMs : channel.totalTimeoutMs,
      }),
    );

    const updated = await this.dataSource.transaction(async (m) => {
      await m.update(ChannelEntity, { id: channel.id }, changes);
      const {
        encryptedApiKey: _sealed,
        rejectedCredential: _fp,
        extraHeaders,
        ...visible
      } = changes;
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: channel.organisationId,
        action: AuditAction.ChannelUpdated,
        targetType: 'channel',
        targetId: channel.id,
        details: {
          changes: {
            ...visible,
            ...(extraHeaders !== undefined ? { extraHeaders: Object.keys(extraHeaders) } : {}),
          },
          credentialReplaced: dto.apiKey !== undefined,
        },
      });
      return m.findOneOrFail(ChannelEntity, { where: { id: channel.id } });
    });
    // the proxy skips a channel listed as refused until the entry goes, whatever its status says
    if (dto.status === 'enabled') await this.rejected.forget(channel.id);
    await this.projections.channelChanged(channel.id, 'strict');
    return toChannelResponse(updated);
  }
}
