import { Module } from '@nestjs/common';
import { OrgRoleGuard } from '../common/access.guards';
import { alertSecretBoxProvider } from './alert-secrets';
import { AlertSettingsService } from './alert-settings.service';
import { AlertsController } from './alerts.controller';

/** Alert settings and history (API process). */
@Module({
  controllers: [AlertsController],
  providers: [AlertSettingsService, alertSecretBoxProvider, OrgRoleGuard],
})
export class AlertsModule {}
