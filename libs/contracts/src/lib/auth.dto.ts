import { IsEmail, IsNotEmpty, IsString, MaxLength, MinLength } from 'class-validator';

export const PASSWORD_MIN_LENGTH = 10;

export class SignupRequestDto {
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxLength(200)
  password!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  organisationName!: string;
}

export class LoginRequestDto {
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  password!: string;
}

export class RefreshRequestDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  refreshToken!: string;
}

export interface TokenPairResponseDto {
  accessToken: string;
  refreshToken: string;
}

export interface SignupResponseDto extends TokenPairResponseDto {
  user: { id: string; email: string };
  organisation: { id: string; name: string };
}

export interface MeResponseDto {
  id: string;
  email: string;
  isPlatformAdmin: boolean;
  memberships: { organisationId: string; organisationName: string; role: string }[];
}
