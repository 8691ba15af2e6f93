import { Controller, Get } from '@nestjs/common';
import { Public } from '@tollgate/server-kit';
import { OPENAPI_DOCUMENT } from './openapi.document';

@Controller()
@Public()
export class OpenApiController {
  @Get('openapi.json')
  document(): typeof OPENAPI_DOCUMENT {
    return OPENAPI_DOCUMENT;
  }
}
