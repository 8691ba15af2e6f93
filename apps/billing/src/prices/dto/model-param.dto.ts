import { Matches } from 'class-validator';

/** A public model name in a path: 1–200 printable ASCII characters without spaces (URL-encode `/`). */
export const MODEL_NAME_PATTERN = /^[\x21-\x7E]{1,200}$/;

export class ModelParamDto {
  @Matches(MODEL_NAME_PATTERN, {
    message: 'model must be 1-200 printable characters without spaces',
  })
  model!: string;
}
