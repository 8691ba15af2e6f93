import { DEFAULT_PAGE_LIMIT, type Page, type PageQueryDto } from '@tollgate/contracts';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { decodeCursor, encodeCursor } from './cursor';

/**
 * One keyset page over `(alias.created_at, alias.id)`. The builder must select whole entities whose
 * joins are many-to-one (one row per entity), so LIMIT counts entities.
 */
export async function keysetPage<E extends ObjectLiteral & { createdAt: Date; id: string }, R>(
  qb: SelectQueryBuilder<E>,
  alias: string,
  query: PageQueryDto,
  map: (entity: E) => R,
  order: 'ASC' | 'DESC' = 'ASC',
): Promise<Page<R>> {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    const op = order === 'ASC' ? '>' : '<';
    qb.andWhere(`("${alias}"."created_at", "${alias}"."id") ${op} (:cursorCreatedAt, :cursorId)`, {
      cursorCreatedAt: after.createdAt,
      cursorId: after.id,
    });
  }
  const rows = await qb
    .orderBy(`${alias}.createdAt`, order)
    .addOrderBy(`${alias}.id`, order)
    .limit(limit + 1)
    .getMany();
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items: items.map(map), nextCursor: more && last ? encodeCursor(last) : null };
}
