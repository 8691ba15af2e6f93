import { Injectable } from '@nestjs/common';
import { ProxyEndpoint } from '@tollgate/contracts';
import type { ModelList, ModelObject } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedKey } from '../auth/key-cache';
import type { Exchange } from './exchange';
import { errors } from './proxy-error';
import { RequestPipeline } from './request-pipeline';

const OWNER = 'tollgate';

/**
 * `GET /v1/models` and `GET /v1/models/{id}`: exactly the models the key can reach (its allowlist
 * ∩ the models of the enabled channels open to its tenant group and organisation, leaving out
 * channels whose credentials the provider refused). Not metered.
 */
@Injectable()
export class ModelsHandler {
  constructor(private readonly pipeline: RequestPipeline) {}

  private reachable(key: ResolvedKey): string[] {
    const all = this.pipeline.channels.table.modelsFor(
      { group: key.record.tenantGroup, organisationId: key.record.organisationId },
      this.pipeline.router.health,
    );
    return key.allowedModels === null ? all : all.filter((m) => key.allowedModels?.has(m));
  }

  private model(id: string): ModelObject {
    return {
      id,
      object: 'model',
      created: this.pipeline.channels.loadedAtSeconds,
      owned_by: OWNER,
    };
  }

  private async authorised(ex: Exchange, request: FastifyRequest): Promise<ResolvedKey | null> {
    const pending = this.pipeline.auth.authenticate(request.headers.authorization);
    const auth = pending instanceof Promise ? await pending : pending;
    if (auth.ok) return auth.key;
    ex.sendError(auth.error);
    return null;
  }

  async list(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ex = this.pipeline.begin(request, reply, ProxyEndpoint.ChatCompletions);
    try {
      const key = await this.authorised(ex, request);
      if (key === null) return;
      const body: ModelList = {
        object: 'list',
        data: this.reachable(key).map((id) => this.model(id)),
      };
      ex.sendJson(200, JSON.stringify(body));
    } catch (err) {
      this.pipeline.crash(ex, err);
    }
  }

  async retrieve(
    request: FastifyRequest<{ Params: { '*': string } }>,
    reply: FastifyReply,
  ): Promise<void> {
    const ex = this.pipeline.begin(request, reply, ProxyEndpoint.ChatCompletions);
    try {
      const key = await this.authorised(ex, request);
      if (key === null) return;
      const id = request.params['*'];
      if (!this.reachable(key).includes(id)) {
        ex.sendError(errors.modelNotFound(id, null));
        return;
      }
      ex.sendJson(200, JSON.stringify(this.model(id)));
    } catch (err) {
      this.pipeline.crash(ex, err);
    }
  }
}
