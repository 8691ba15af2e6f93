import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PriceEntity } from './price.entity';

/** The worker's read side of the price book. */
@Injectable()
export class PriceLookupService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The price of `model` (the requested, public name) in effect at `at`, or null when none was. A
   * usage event is priced as of when it happened, not when the worker got to it.
   */
  async priceAt(model: string, at: Date): Promise<PriceEntity | null> {
    return this.dataSource
      .getRepository(PriceEntity)
      .createQueryBuilder('p')
      .where('p.model = :model', { model })
      .andWhere('p.effectiveFrom <= :at', { at })
      .orderBy('p.effectiveFrom', 'DESC')
      .addOrderBy('p.version', 'DESC')
      .limit(1)
      .getOne();
  }
}
