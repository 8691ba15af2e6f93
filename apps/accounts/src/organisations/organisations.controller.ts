import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import {
  type AccessTokenClaims,
  AddMemberRequestDto,
  type MemberResponseDto,
  type OrganisationResponseDto,
  type Page,
  PageQueryDto,
  UpdateOrganisationRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { uuidParam } from '../common/uuid-param.pipe';
import { OrganisationsService } from './organisations.service';

@Controller('orgs')
export class OrganisationsController {
  constructor(private readonly organisations: OrganisationsService) {}

  @Get()
  list(
    @Caller() caller: AccessTokenClaims,
    @Query() query: PageQueryDto,
  ): Promise<Page<OrganisationResponseDto>> {
    return this.organisations.listMine(caller, query);
  }

  @Get(':orgId')
  get(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
  ): Promise<OrganisationResponseDto> {
    return this.organisations.get(caller, orgId);
  }

  @Patch(':orgId')
  update(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
    @Body() dto: UpdateOrganisationRequestDto,
  ): Promise<OrganisationResponseDto> {
    return this.organisations.update(caller, orgId, dto);
  }

  @Get(':orgId/members')
  listMembers(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<MemberResponseDto>> {
    return this.organisations.listMembers(caller, orgId, query);
  }

  @Post(':orgId/members')
  addMember(
    @Caller() caller: AccessTokenClaims,
    @Param('orgId', uuidParam('orgId')) orgId: string,
    @Body() dto: AddMemberRequestDto,
  ): Promise<MemberResponseDto> {
    return this.organisations.addMember(caller, orgId, dto);
  }
}
