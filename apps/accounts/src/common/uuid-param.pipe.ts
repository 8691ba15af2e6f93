import { Injectable, type PipeTransform } from '@nestjs/common';
import { RequestValidationException } from '@tollgate/server-kit';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids are uuids; anything else is a 400 problem before any lookup. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    if (!UUID.test(value)) throw new RequestValidationException([`${this.name} must be a UUID`]);
    return value.toLowerCase();
  }
}

export const uuidParam = (name: string): UuidParamPipe => new UuidParamPipe(name);
