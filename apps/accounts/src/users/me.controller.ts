import { Controller, Get } from '@nestjs/common';
import type { AccessTokenClaims, MeResponseDto } from '@tollgate/contracts';
import { Caller } from '@tollgate/server-kit';
import { UsersService } from './users.service';

@Controller('me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  me(@Caller() caller: AccessTokenClaims): Promise<MeResponseDto> {
    return this.users.me(caller.sub);
  }
}
