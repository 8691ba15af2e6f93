import { Injectable } from '@nestjs/common';
import type { MeResponseDto } from '@tollgate/contracts';
import { DataSource } from 'typeorm';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { MembershipEntity } from '../organisations/membership.entity';
import { UserEntity } from './user.entity';

@Injectable()
export class UsersService {
  constructor(private readonly dataSource: DataSource) {}

  async me(userId: string): Promise<MeResponseDto> {
    const user = await this.dataSource.getRepository(UserEntity).findOne({ where: { id: userId } });
    if (!user) throw new AccountsException(AccountsErrorCode.UserNotFound);
    const memberships = await this.dataSource
      .getRepository(MembershipEntity)
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.organisation', 'o')
      .where('m.user_id = :userId', { userId })
      .orderBy('m.createdAt', 'ASC')
      .addOrderBy('m.id', 'ASC')
      .getMany();
    return {
      id: user.id,
      email: user.email,
      isPlatformAdmin: user.isPlatformAdmin,
      memberships: memberships.map((m) => ({
        organisationId: m.organisationId,
        organisationName: m.organisation!.name,
        role: m.role,
      })),
    };
  }
}
