import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Put } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type LimitsResponseDto,
  type LimitsStateResponseDto,
  type ModelLimitsListResponseDto,
  type ModelLimitsResponseDto,
  type ModelLimitsStateResponseDto,
  UpdateLimitsRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { uuidParam } from '../common/uuid-param.pipe';
import { LimitsService } from './limits.service';
import { ModelParamPipe } from './model-param.pipe';

const modelParam = new ModelParamPipe();

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

  // ---- per-model limits of a tenant or key ------------------------------------------------

  @Get('tenants/:tenantId/limits/models')
  listTenantModels(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
  ): Promise<ModelLimitsListResponseDto> {
    return this.limits.listModels(caller, 'tenant', tenantId);
  }

  @Get('tenants/:tenantId/limits/models/:model')
  getTenantModel(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Param('model', modelParam) model: string,
  ): Promise<ModelLimitsStateResponseDto> {
    return this.limits.getModel(caller, 'tenant', tenantId, model);
  }

  @Put('tenants/:tenantId/limits/models/:model')
  putTenantModel(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Param('model', modelParam) model: string,
    @Body() dto: UpdateLimitsRequestDto,
  ): Promise<ModelLimitsResponseDto> {
    return this.limits.putModel(caller, 'tenant', tenantId, model, dto);
  }

  @Delete('tenants/:tenantId/limits/models/:model')
  @HttpCode(HttpStatus.NO_CONTENT)
  deleteTenantModel(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Param('model', modelParam) model: string,
  ): Promise<void> {
    return this.limits.deleteModel(caller, 'tenant', tenantId, model);
  }

  @Get('keys/:keyId/limits/models')
  listKeyModels(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
  ): Promise<ModelLimitsListResponseDto> {
    return this.limits.listModels(caller, 'key', keyId);
  }

  @Get('keys/:keyId/limits/models/:model')
  getKeyModel(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
    @Param('model', modelParam) model: string,
  ): Promise<ModelLimitsStateResponseDto> {
    return this.limits.getModel(caller, 'key', keyId, model);
  }

  @Put('keys/:keyId/limits/models/:model')
  putKeyModel(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
    @Param('model', modelParam) model: string,
    @Body() dto: UpdateLimitsRequestDto,
  ): Promise<ModelLimitsResponseDto> {
    return this.limits.putModel(caller, 'key', keyId, model, dto);
  }

  @Delete('keys/:keyId/limits/models/:model')
  @HttpCode(HttpStatus.NO_CONTENT)
  deleteKeyModel(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
    @Param('model', modelParam) model: string,
  ): Promise<void> {
    return this.limits.deleteModel(caller, 'key', keyId, model);
  }
}
