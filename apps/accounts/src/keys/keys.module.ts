import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';

@Module({ imports: [TenantsModule], controllers: [KeysController], providers: [KeysService] })
export class KeysModule {}
