import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { timestampColumn } from '../database/columns';

/** Emails are unique regardless of case: the unique index is on `lower(email)` (see the migration). */
@Entity({ name: 'users' })
@Index('users_email_lower_key', { synchronize: false })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  /** `scrypt$ln=…,r=…,p=…$salt$hash` (see PasswordHasher); never leaves this service. */
  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'is_platform_admin', type: 'boolean', default: false })
  isPlatformAdmin!: boolean;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}
