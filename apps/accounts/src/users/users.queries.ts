import type { EntityManager } from 'typeorm';
import { UserEntity } from './user.entity';

/** Emails match regardless of case (the unique index is on lower(email)). */
export function findUserByEmail(m: EntityManager, email: string): Promise<UserEntity | null> {
  return m
    .getRepository(UserEntity)
    .createQueryBuilder('u')
    .where('lower(u.email) = lower(:email)', { email: email.trim() })
    .getOne();
}
