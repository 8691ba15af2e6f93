import { Module } from '@nestjs/common';
import { ChannelEventsService } from './channel-events.service';
import { ChannelTestService } from './channel-test.service';
import { ChannelsController } from './channels.controller';
import { ChannelsService } from './channels.service';
import { CredentialRejectionsService } from './credential-rejections.service';
import { RejectedCredentials } from './rejected-credentials';

@Module({
  controllers: [ChannelsController],
  providers: [
    ChannelsService,
    ChannelEventsService,
    ChannelTestService,
    RejectedCredentials,
    CredentialRejectionsService,
  ],
})
export class ChannelsModule {}
