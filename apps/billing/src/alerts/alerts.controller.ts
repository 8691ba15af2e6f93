import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import {
  type AlertResponseDto,
  type AlertSettingsResponseDto,
  MANAGER_ROLES,
  type Page,
  PageQueryDto,
  PutAlertSettingsRequestDto,
  SPEND_READER_ROLES,
} from '@tollgate/contracts';
import { Matches } from 'class-validator';
import { OrgRoleGuard, RequireOrgRole } from '../common/access.guards';
import { AlertSettingsService } from './alert-settings.service';
import { AlertsExceptionFilter } from './alerts.exception';

/** Organisation ids end up in Redis key names (admission): the same alphabet as there. */
export class AlertsOrgParamDto {
  @Matches(/^[A-Za-z0-9._:-]{1,128}$/, { message: 'orgId is not a valid organisation id' })
  orgId!: string;
}

/** Budget alert settings (owner/admin write, finance reads) and the alert history. */
@Controller('orgs/:orgId')
@UseGuards(OrgRoleGuard)
@UseFilters(AlertsExceptionFilter)
export class AlertsController {
  constructor(private readonly alerts: AlertSettingsService) {}

  @Get('alert-settings')
  @RequireOrgRole(SPEND_READER_ROLES)
  getSettings(@Param() params: AlertsOrgParamDto): Promise<AlertSettingsResponseDto> {
    return this.alerts.get(params.orgId);
  }

  @Put('alert-settings')
  @RequireOrgRole(MANAGER_ROLES)
  putSettings(
    @Param() params: AlertsOrgParamDto,
    @Body() body: PutAlertSettingsRequestDto,
  ): Promise<AlertSettingsResponseDto> {
    return this.alerts.put(params.orgId, body);
  }

  @Post('alert-settings/rotate-secret')
  @HttpCode(200)
  @RequireOrgRole(MANAGER_ROLES)
  rotateSecret(@Param() params: AlertsOrgParamDto): Promise<AlertSettingsResponseDto> {
    return this.alerts.rotateSecret(params.orgId);
  }

  @Get('alerts')
  @RequireOrgRole(SPEND_READER_ROLES)
  list(
    @Param() params: AlertsOrgParamDto,
    @Query() query: PageQueryDto,
  ): Promise<Page<AlertResponseDto>> {
    return this.alerts.list(params.orgId, query);
  }
}
