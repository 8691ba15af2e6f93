import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  type AccessTokenClaims,
  type ApiKeyDetailResponseDto,
  CreateApiKeyRequestDto,
  type CreatedApiKeyResponseDto,
  type Page,
  PageQueryDto,
  UpdateApiKeyRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { uuidParam } from '../common/uuid-param.pipe';
import { KeysService } from './keys.service';

@Controller()
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Get('tenants/:tenantId/keys')
  list(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<ApiKeyDetailResponseDto>> {
    return this.keys.list(caller, tenantId, query);
  }

  @Post('tenants/:tenantId/keys')
  create(
    @Caller() caller: AccessTokenClaims,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Body() dto: CreateApiKeyRequestDto,
  ): Promise<CreatedApiKeyResponseDto> {
    return this.keys.create(caller, tenantId, dto);
  }

  @Patch('keys/:keyId')
  update(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
    @Body() dto: UpdateApiKeyRequestDto,
  ): Promise<ApiKeyDetailResponseDto> {
    return this.keys.update(caller, keyId, dto);
  }

  @Delete('keys/:keyId')
  @HttpCode(HttpStatus.NO_CONTENT)
  async revoke(
    @Caller() caller: AccessTokenClaims,
    @Param('keyId', uuidParam('keyId')) keyId: string,
  ): Promise<void> {
    await this.keys.revoke(caller, keyId);
  }
}
