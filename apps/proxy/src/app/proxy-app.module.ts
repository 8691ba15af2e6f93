import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AdmissionService } from '../admission/admission.service';
import { PriceBook } from '../admission/price-book';
import { KeyAuthService } from '../auth/key-auth.service';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { HealthController } from '../health/health.controller';
import { DrainService } from '../lifecycle/drain';
import { ProjectionListener } from '../projections/projection-listener';
import { RedisClients } from '../projections/redis-clients';
import { ChannelRegistry } from '../routing/channel-registry';
import { UpstreamPools } from '../upstream/upstream-pools';
import { UsageEmitter } from '../usage/usage-emitter';
import { ChatCompletionsHandler } from '../v1/chat-completions.handler';
import { CompletionsHandler } from '../v1/completions.handler';
import { EmbeddingsHandler } from '../v1/embeddings.handler';
import { MessagesHandler } from '../v1/messages.handler';
import { ModelsHandler } from '../v1/models.handler';
import { RequestPipeline } from '../v1/request-pipeline';
import { V1Routes } from '../v1/v1-routes';

/** Configuration, Redis connections and the shutdown drain: what every other module uses. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: ProxyConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [{ provide: PROXY_CONFIG, useValue: config }, RedisClients, DrainService],
      exports: [PROXY_CONFIG, RedisClients, DrainService],
    };
  }
}

/** Key records: the in-process cache over the Redis projection. */
@Module({ providers: [KeyAuthService], exports: [KeyAuthService] })
class AuthModule {}

/** Channels and the keep-alive pools to their providers. */
@Module({ providers: [UpstreamPools, ChannelRegistry], exports: [ChannelRegistry] })
class RoutingModule {}

/** Budgets and rate limits (the admission store) and the price book that prices reservations. */
@Module({ providers: [PriceBook, AdmissionService], exports: [PriceBook, AdmissionService] })
class AdmissionModule {}

/** Follows projection changes into the key cache, the channel table and the price book. */
@Module({ imports: [AuthModule, RoutingModule, AdmissionModule], providers: [ProjectionListener] })
class ProjectionsModule {}

/** Usage events onto the BullMQ queue. */
@Module({ providers: [UsageEmitter], exports: [UsageEmitter] })
class UsageModule {}

/** The OpenAI-compatible /v1 surface. */
@Module({
  imports: [AuthModule, RoutingModule, UsageModule, AdmissionModule],
  providers: [
    RequestPipeline,
    ChatCompletionsHandler,
    CompletionsHandler,
    EmbeddingsHandler,
    MessagesHandler,
    ModelsHandler,
    V1Routes,
  ],
  exports: [V1Routes],
})
export class V1Module {}

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), RoutingModule],
  controllers: [HealthController],
})
class HealthModule {}

@Module({})
export class ProxyAppModule {
  static forRoot(config: ProxyConfig): DynamicModule {
    return {
      module: ProxyAppModule,
      imports: [CoreModule.forRoot(config), ProjectionsModule, V1Module, HealthModule],
    };
  }
}
