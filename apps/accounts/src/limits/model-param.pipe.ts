import { Injectable, type PipeTransform } from '@nestjs/common';
import { MODEL_LIMIT_NAME_MESSAGE, MODEL_LIMIT_NAME_PATTERN } from '@tollgate/contracts';
import { RequestValidationException } from '@tollgate/server-kit';

/**
 * The public model name of a per-model limits path (URL-decoded by the router): a 400 problem
 * before any lookup when it is empty, too long or has characters outside the allowed set.
 */
@Injectable()
export class ModelParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !MODEL_LIMIT_NAME_PATTERN.test(value))
      throw new RequestValidationException([MODEL_LIMIT_NAME_MESSAGE]);
    return value;
  }
}
