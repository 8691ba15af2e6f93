import { Body, Controller, Get, HttpCode, Param, Put, Query, UseGuards } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type Page,
  PageQueryDto,
  type PriceResponseDto,
  PutPriceRequestDto,
} from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { PlatformAdminGuard } from '../common/access.guards';
import { ModelParamDto } from './dto/model-param.dto';
import { PriceBookService } from './price-book.service';

/** The price book: platform administrators only. Prices are US dollars per million tokens. */
@Controller('admin/prices')
@UseGuards(PlatformAdminGuard)
export class PricesController {
  constructor(private readonly priceBook: PriceBookService) {}

  @Put(':model')
  @HttpCode(200)
  put(
    @Param() params: ModelParamDto,
    @Body() body: PutPriceRequestDto,
    @Caller() caller: AccessTokenClaims,
  ): Promise<PriceResponseDto> {
    return this.priceBook.setPrice(params.model, body, caller);
  }

  @Get()
  list(@Query() query: PageQueryDto): Promise<Page<PriceResponseDto>> {
    return this.priceBook.listCurrent(query);
  }

  @Get(':model/versions')
  versions(
    @Param() params: ModelParamDto,
    @Query() query: PageQueryDto,
  ): Promise<Page<PriceResponseDto>> {
    return this.priceBook.listVersions(params.model, query);
  }
}
