import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import {
  type AccessTokenClaims,
  CreateTenantRequestDto,
  type Page,
  PageQueryDto,
  type TenantDetailResponseDto,
  UpdateTenantRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { uuidParam } from '../common/uuid-param.pipe';
import { TenantsService } from './tenants.service';

@Controller()
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get('orgs/:orgId/tenants')
  list(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<TenantDetailResponseDto>> {
    return this.tenants.list(caller, orgId, query);
  }

  @Post('orgs/:orgId/tenants')
  create(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
    @Body() dto: CreateTenantRequestDto,
  ): Promise<TenantDetailResponseDto> {
    return this.tenants.create(caller, orgId, dto);
  }

  @Get('tenants/:tenantId')
  get(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
  ): Promise<TenantDetailResponseDto> {
    return this.tenants.get(caller, tenantId);
  }

  @Patch('tenants/:tenantId')
  update(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Body() dto: UpdateTenantRequestDto,
  ): Promise<TenantDetailResponseDto> {
    return this.tenants.update(caller, tenantId, dto);
  }
}
