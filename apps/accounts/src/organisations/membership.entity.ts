import { OrgRole } from '@tollgate/contracts';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import { timestampColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';
import { OrganisationEntity } from './organisation.entity';

@Entity({ name: 'memberships' })
@Unique('memberships_organisation_user_key', ['organisationId', 'userId'])
@Check('memberships_role_check', `role IN ('owner', 'admin', 'finance', 'member')`)
@Index('memberships_user_idx', ['userId'])
export class MembershipEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organisation_id', type: 'uuid' })
  organisationId!: string;

  @ManyToOne(() => OrganisationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'memberships_organisation_fk' })
  organisation?: OrganisationEntity;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'memberships_user_fk' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 16 })
  role!: OrgRole;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}
