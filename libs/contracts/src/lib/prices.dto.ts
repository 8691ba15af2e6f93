import { Matches } from 'class-validator';
import { USD_DECIMAL_MESSAGE, USD_DECIMAL_PATTERN } from './money';

/** `PUT /api/v1/admin/prices/{model}`: US dollars per million tokens, as decimal strings. */
export class PutPriceRequestDto {
  @Matches(USD_DECIMAL_PATTERN, { message: `inputUsdPerMTok ${USD_DECIMAL_MESSAGE}` })
  inputUsdPerMTok!: string;

  @Matches(USD_DECIMAL_PATTERN, { message: `outputUsdPerMTok ${USD_DECIMAL_MESSAGE}` })
  outputUsdPerMTok!: string;
}

export interface PriceResponseDto {
  model: string;
  inputUsdPerMTok: string;
  outputUsdPerMTok: string;
  version: number;
  updatedAt: string;
}
