import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type ChannelResponseDto,
  CreateChannelRequestDto,
  type Page,
  PageQueryDto,
  UpdateChannelRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { uuidParam } from '../common/uuid-param.pipe';
import { ChannelsService } from './channels.service';

@Controller('admin/channels')
export class ChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  list(
    @Caller() caller: AccessTokenClaims,
    @Query() query: PageQueryDto,
  ): Promise<Page<ChannelResponseDto>> {
    return this.channels.list(caller, query);
  }

  @Post()
  create(
    @Caller() caller: AccessTokenClaims,
    @Body() dto: CreateChannelRequestDto,
  ): Promise<ChannelResponseDto> {
    return this.channels.create(caller, dto);
  }

  @Get(':channelId')
  get(
    @Caller() caller: AccessTokenClaims,
    @Param('channelId', uuidParam('channelId')) channelId: string,
  ): Promise<ChannelResponseDto> {
    return this.channels.get(caller, channelId);
  }

  @Patch(':channelId')
  update(
    @Caller() caller: AccessTokenClaims,
    @Param('channelId', uuidParam('channelId')) channelId: string,
    @Body() dto: UpdateChannelRequestDto,
  ): Promise<ChannelResponseDto> {
    return this.channels.update(caller, channelId, dto);
  }
}
