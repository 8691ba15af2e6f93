import { Module } from '@nestjs/common';
import { PlatformAdminGuard } from '../common/access.guards';
import { PriceBookService } from './price-book.service';
import { PriceProjector } from './price-projector.service';
import { PricesController } from './prices.controller';

/** The admin price book and its Redis projection (API process). */
@Module({
  controllers: [PricesController],
  providers: [PriceBookService, PriceProjector, PlatformAdminGuard],
})
export class PricesModule {}
