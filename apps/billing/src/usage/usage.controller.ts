import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import {
  type Page,
  SPEND_READER_ROLES,
  UsageQueryDto,
  type UsageRecordResponseDto,
} from '@tollgate/contracts';
import { OrgRoleGuard, RequireOrgRole } from '../common/access.guards';
import { UsageService } from './usage.service';

@Controller('orgs/:orgId/usage')
@UseGuards(OrgRoleGuard)
@RequireOrgRole(SPEND_READER_ROLES)
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  list(
    @Param('orgId') orgId: string,
    @Query() query: UsageQueryDto,
  ): Promise<Page<UsageRecordResponseDto>> {
    return this.usage.list(orgId, query);
  }
}
