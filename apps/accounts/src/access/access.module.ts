import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipEntity } from '../organisations/membership.entity';
import { UserEntity } from '../users/user.entity';
import { OrgAccessService } from './org-access.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([MembershipEntity, UserEntity])],
  providers: [OrgAccessService],
  exports: [OrgAccessService],
})
export class AccessModule {}
