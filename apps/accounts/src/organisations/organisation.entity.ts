import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { timestampColumn } from '../database/columns';

@Entity({ name: 'organisations' })
export class OrganisationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 120 })
  name!: string;

  /** IANA time zone in which the organisation's months are billed. */
  @Column({ name: 'billing_time_zone', type: 'varchar', length: 64, default: 'UTC' })
  billingTimeZone!: string;

  /** Admission when Redis is unreachable: true admits (unmetered), false refuses (the default). */
  @Column({ name: 'admission_fail_open', type: 'boolean', default: false })
  admissionFailOpen!: boolean;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}
