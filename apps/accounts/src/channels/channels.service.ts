import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type ChannelResponseDto,
  type ChannelType,
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
import { modelMappingProblems } from './model-mapping';

/** Never includes the credential, not even encrypted. */
export function toChannelResponse(c: ChannelEntity): ChannelResponseDto {
  return {
    id: c.id,
    name: c.name,
    type: c.type as ChannelType,
    baseUrl: c.baseUrl,
    models: c.models,
    modelMapping: c.modelMapping,
    priority: c.priority,
    weight: c.weight,
    groups: c.groups,
    status: c.status,
    createdAt: iso(c.createdAt),
  };
}

const unique = (values: string[]): string[] => [...new Set(values.map((v) => v.trim()))];
const trimBaseUrl = (url: string): string => url.replace(/\/+$/, '');

function checkMapping(mapping: Record<string, unknown> | undefined): void {
  if (mapping === undefined) return;
  const problems = modelMappingProblems(mapping);
  if (problems.length) {
    throw new AccountsException(AccountsErrorCode.ValidationFailed, problems.join('; '), {
      errors: problems,
    });
  }
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
    await this.access.requirePlatformAdmin(caller);
    return toChannelResponse(await this.load(channelId));
  }

  async create(
    caller: AccessTokenClaims,
    dto: CreateChannelRequestDto,
  ): Promise<ChannelResponseDto> {
    await this.access.requirePlatformAdmin(caller);
    checkMapping(dto.modelMapping);
    const id = randomUUID();
    const channel = await this.dataSource.transaction(async (m) => {
      const saved = await m.save(
        m.create(ChannelEntity, {
          id,
          organisationId: null,
          name: dto.name.trim(),
          type: dto.type,
          baseUrl: trimBaseUrl(dto.baseUrl),
          encryptedApiKey: this.box.seal(dto.apiKey, id),
          models: unique(dto.models),
          modelMapping: dto.modelMapping ?? {},
          priority: dto.priority ?? 0,
          weight: dto.weight ?? 1,
          groups: dto.groups ? unique(dto.groups) : [DEFAULT_TENANT_GROUP],
          status: 'enabled',
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
    await this.access.requirePlatformAdmin(caller);
    checkMapping(dto.modelMapping);
    const channel = await this.load(channelId);
    const changes: Partial<ChannelEntity> = {};
    if (dto.name !== undefined) changes.name = dto.name.trim();
    if (dto.baseUrl !== undefined) changes.baseUrl = trimBaseUrl(dto.baseUrl);
    if (dto.apiKey !== undefined) changes.encryptedApiKey = this.box.seal(dto.apiKey, channel.id);
    if (dto.models !== undefined) changes.models = unique(dto.models);
    if (dto.modelMapping !== undefined) changes.modelMapping = dto.modelMapping;
    if (dto.priority !== undefined) changes.priority = dto.priority;
    if (dto.weight !== undefined) changes.weight = dto.weight;
    if (dto.groups !== undefined) changes.groups = unique(dto.groups);
    if (dto.status !== undefined) changes.status = dto.status;
    if (!Object.keys(changes).length) return toChannelResponse(channel);

    const updated = await this.dataSource.transaction(async (m) => {
      await m.update(ChannelEntity, { id: channel.id }, changes);
      const { encryptedApiKey: _sealed, ...visible } = changes;
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: channel.organisationId,
        action: AuditAction.ChannelUpdated,
        targetType: 'channel',
        targetId: channel.id,
        details: { changes: visible, credentialReplaced: dto.apiKey !== undefined },
      });
      return m.findOneOrFail(ChannelEntity, { where: { id: channel.id } });
    });
    await this.projections.channelChanged(channel.id, 'strict');
    return toChannelResponse(updated);
  }

  private async load(channelId: string): Promise<ChannelEntity> {
    const channel = await this.dataSource
      .getRepository(ChannelEntity)
      .findOne({ where: { id: channelId } });
    if (!channel) throw new AccountsException(AccountsErrorCode.ChannelNotFound);
    return channel;
  }
}
