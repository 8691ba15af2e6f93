import { Module } from '@nestjs/common';
import { OrgRoleGuard } from '../common/access.guards';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

/** Monthly spend reports over the daily rollups (API process). */
@Module({
  controllers: [ReportsController],
  providers: [ReportsService, OrgRoleGuard],
})
export class ReportsModule {}
