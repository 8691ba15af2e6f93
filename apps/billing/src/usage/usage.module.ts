import { Module } from '@nestjs/common';
import { OrgRoleGuard } from '../common/access.guards';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

/** Reading an organisation's usage ledger (API process). */
@Module({
  controllers: [UsageController],
  providers: [UsageService, OrgRoleGuard],
})
export class UsageModule {}
