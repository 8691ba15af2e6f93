import { Body, Controller, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import {
  LoginRequestDto,
  RefreshRequestDto,
  SignupRequestDto,
  type SignupResponseDto,
  type TokenPairResponseDto,
} from '@tollgate/contracts';
import { Public } from '@tollgate/server-kit';
import type { Request } from 'express';
import { AuthService } from './auth.service';

@Controller('auth')
@Public()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  signup(@Body() dto: SignupRequestDto): Promise<SignupResponseDto> {
    return this.auth.signup(dto);
  }

  @Post('login')
  @HttpCode(HttpStatus.OK)
  login(@Body() dto: LoginRequestDto, @Req() req: Request): Promise<TokenPairResponseDto> {
    return this.auth.login(dto, req.ip ?? req.socket.remoteAddress ?? 'unknown');
  }

  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  refresh(@Body() dto: RefreshRequestDto): Promise<TokenPairResponseDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(@Body() dto: RefreshRequestDto): Promise<void> {
    await this.auth.logout(dto.refreshToken);
  }
}
