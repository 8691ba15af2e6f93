import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import {
  type AccessTokenClaims,
  type BalanceResponseDto,
  CreateCreditGrantRequestDto,
  CreateRedemptionCodesRequestDto,
  type CreditGrantResponseDto,
  OrgRole,
  type Page,
  PageQueryDto,
  RedeemCodeRequestDto,
  type RedemptionCodesCreatedResponseDto,
  SPEND_READER_ROLES,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { Matches } from 'class-validator';
import { OrgRoleGuard, PlatformAdminGuard, RequireOrgRole } from '../common/access.guards';
import { CreditsExceptionFilter } from './credits.exception';
import { CreditsService } from './credits.service';

/** Organisation ids end up in Redis key names (admission): the same alphabet as there. */
export class OrgIdParamDto {
  @Matches(/^[A-Za-z0-9._:-]{1,128}$/, { message: 'orgId is not a valid organisation id' })
  orgId!: string;
}

/** Platform admins: credit grants and redemption codes. */
@Controller('admin')
@UseGuards(PlatformAdminGuard)
@UseFilters(CreditsExceptionFilter)
export class CreditsAdminController {
  constructor(private readonly credits: CreditsService) {}

  @Post('orgs/:orgId/credits')
  @HttpCode(201)
  grant(
    @Param() params: OrgIdParamDto,
    @Body() body: CreateCreditGrantRequestDto,
    @Caller() caller: AccessTokenClaims,
  ): Promise<CreditGrantResponseDto> {
    return this.credits.grant(params.orgId, body, caller);
  }

  @Post('redemption-codes')
  @HttpCode(201)
  createCodes(
    @Body() body: CreateRedemptionCodesRequestDto,
    @Caller() caller: AccessTokenClaims,
  ): Promise<RedemptionCodesCreatedResponseDto> {
    return this.credits.createCodes(body, caller);
  }
}

/** Members: redeem (owner), balance and credit history (owner, admin, finance). */
@Controller('orgs/:orgId')
@UseGuards(OrgRoleGuard)
@UseFilters(CreditsExceptionFilter)
export class CreditsController {
  constructor(private readonly credits: CreditsService) {}

  @Post('redeem')
  @HttpCode(201)
  @RequireOrgRole([OrgRole.Owner])
  redeem(
    @Param() params: OrgIdParamDto,
    @Body() body: RedeemCodeRequestDto,
    @Caller() caller: AccessTokenClaims,
  ): Promise<CreditGrantResponseDto> {
    return this.credits.redeem(params.orgId, body.code, caller);
  }

  @Get('balance')
  @RequireOrgRole(SPEND_READER_ROLES)
  balance(@Param() params: OrgIdParamDto): Promise<BalanceResponseDto> {
    return this.credits.balance(params.orgId);
  }

  @Get('credits')
  @RequireOrgRole(SPEND_READER_ROLES)
  history(
    @Param() params: OrgIdParamDto,
    @Query() query: PageQueryDto,
  ): Promise<Page<CreditGrantResponseDto>> {
    return this.credits.history(params.orgId, query);
  }
}
