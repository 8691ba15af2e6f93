import type { Provider } from '@nestjs/common';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { PasswordHasher } from './password-hasher';

export const passwordHasherProvider: Provider = {
  provide: PasswordHasher,
  inject: [ACCOUNTS_CONFIG],
  useFactory: (config: AccountsConfig) => new PasswordHasher({ ln: config.PASSWORD_HASH_COST }),
};
