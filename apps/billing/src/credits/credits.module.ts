import { Module } from '@nestjs/common';
import { OrgRoleGuard, PlatformAdminGuard } from '../common/access.guards';
import { admissionStoreProvider } from './admission.provider';
import { CreditsAdminController, CreditsController } from './credits.controller';
import { CREDITS_ADMISSION, CreditsService } from './credits.service';

/** Prepaid balance: grants, redemption codes, balance and history (API process). */
@Module({
  controllers: [CreditsAdminController, CreditsController],
  providers: [CreditsService, admissionStoreProvider, OrgRoleGuard, PlatformAdminGuard],
  exports: [CreditsService, CREDITS_ADMISSION],
})
export class CreditsModule {}
