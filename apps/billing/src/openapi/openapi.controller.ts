import { Controller, Get } from '@nestjs/common';
import { Public } from '@tollgate/server-kit';
import { BILLING_OPENAPI_DOCUMENT } from './openapi.document';

@Controller()
@Public()
export class OpenApiController {
  @Get('openapi.json')
  document(): typeof BILLING_OPENAPI_DOCUMENT {
    return BILLING_OPENAPI_DOCUMENT;
  }
}
