import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type LimitsResponseDto,
  type LimitsStateResponseDto,
  UpdateLimitsRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { uuidParam } from '../common/uuid-param.pipe';
import { LimitsService } from './limits.service';

/** Budgets and rate limits of an organisation, a tenant and a key: one shape for all three. */
@Controller()
export class LimitsController {
  constructor(private readonly limits: LimitsService) {}

  @Get('orgs/:orgId/limits')
  getOrg(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
  ): Promise<LimitsStateResponseDto> {
    return this.limits.get(caller, 'org', orgId);
  }

  @Put('orgs/:orgId/limits')
  putOrg(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
    @Body() dto: UpdateLimitsRequestDto,
  ): Promise<LimitsResponseDto> {
    return this.limits.put(caller, 'org', orgId, dto);
  }

  @Get('tenants/:tenantId/limits')
  getTenant(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
  ): Promise<LimitsStateResponseDto> {
    return this.limits.get(caller, 'tenant', tenantId);
  }

  @Put('tenants/:tenantId/limits')
  putTenant(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Body() dto: UpdateLimitsRequestDto,
  ): Promise<LimitsResponseDto> {
    return this.limits.put(caller, 'tenant', tenantId, dto);
  }

  @Get('keys/:keyId/limits')
  getKey(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
  ): Promise<LimitsStateResponseDto> {
    return this.limits.get(caller, 'key', keyId);
  }

  @Put('keys/:keyId/limits')
  putKey(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
    @Body() dto: UpdateLimitsRequestDto,
  ): Promise<LimitsResponseDto> {
    return this.limits.put(caller, 'key', keyId, dto);
  }
}
