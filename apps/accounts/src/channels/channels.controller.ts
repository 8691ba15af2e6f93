import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type ChannelEventResponseDto,
  type ChannelResponseDto,
  type ChannelTestResponseDto,
  CreateChannelRequestDto,
  type Page,
  PageQueryDto,
  TestChannelRequestDto,
  UpdateChannelRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { uuidParam } from '../common/uuid-param.pipe';
import { ChannelEventsService } from './channel-events.service';
import { ChannelTestService } from './channel-test.service';
import { ChannelsService } from './channels.service';

@Controller('admin/channels')
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly channelEvents: ChannelEventsService,
    private readonly tester: ChannelTestService,
  ) {}

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

  @Get(':channelId/events')
  events(
    @Caller() caller: AccessTokenClaims,
    @Param('channelId', uuidParam('channelId')) channelId: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<ChannelEventResponseDto>> {
    return this.channelEvents.list(caller, channelId, query);
  }

  /** 200 whatever the provider said: the answer describes the test, which itself succeeded. */
  @Post(':channelId/test')
  @HttpCode(200)
  test(
    @Caller() caller: AccessTokenClaims,
    @Param('channelId', uuidParam('channelId')) channelId: string,
    @Body() dto: TestChannelRequestDto,
  ): Promise<ChannelTestResponseDto> {
    return this.tester.test(caller, channelId, dto);
  }
}
