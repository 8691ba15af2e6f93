import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginThrottleService } from './login-throttle.service';
import { passwordHasherProvider } from './password-hasher.provider';
import { TokensService } from './tokens.service';

@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [ACCOUNTS_CONFIG],
      useFactory: (config: AccountsConfig) => ({
        secret: config.JWT_SECRET,
        signOptions: { algorithm: 'HS256' },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    TokensService,
    LoginThrottleService,
    AdminBootstrapService,
    passwordHasherProvider,
  ],
  exports: [TokensService],
})
export class AuthModule {}
