import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { problemFromUnknown, RequestValidationException } from './problem';

describe('problemFromUnknown', () => {
  it('keeps every validation message', () => {
    const sut = problemFromUnknown(new RequestValidationException(['name should not be empty', 'group bad']));
    expect(sut).toMatchObject({ status: 400, code: 'validation_failed', errors: ['name should not be empty', 'group bad'] });
  });

  it('recognises malformed JSON', () => {
    expect(problemFromUnknown(new BadRequestException('Unexpected token } in JSON at position 3'))).toMatchObject({
      status: 400,
      code: 'malformed_json',
    });
  });

  it('maps framework statuses', () => {
    expect(problemFromUnknown(new NotFoundException('Cannot GET /x'))).toMatchObject({ status: 404, code: 'not_found' });
    expect(problemFromUnknown(new PayloadTooLargeException())).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('hides the details of unexpected errors', () => {
    const sut = problemFromUnknown(new Error('password=hunter2 leaked'));
    expect(sut).toMatchObject({ status: 500, code: 'internal_error' });
    expect(JSON.stringify(sut)).not.toContain('hunter2');
  });
});
