# syntax=docker/dockerfile:1
#
# The portal (Next.js App Router) as a standalone server (apps/portal/next.config.mjs sets
# `output: 'standalone'` with the workspace as the tracing root). Build context: repository root.
#   docker build -f infra/docker/portal.Dockerfile -t tollgate/portal .
# The runtime image holds only the standalone server, the node_modules Next traced for it and the static
# assets; it listens on PORT (3000) on HOSTNAME (0.0.0.0). ACCOUNTS_URL / BILLING_URL are read per request.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- builder
FROM ${NODE_IMAGE} AS builder
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NEXT_TELEMETRY_DISABLED=1
WORKDIR /workspace
COPY package.json package-lock.json ./
# npm install, never npm ci: the lock file lacks other platforms' optional packages (TOOLCHAIN pitfall 1).
RUN npm install --no-audit --no-fund
COPY . .
RUN npx nx run portal:build && \
    test -f apps/portal/.next/standalone/apps/portal/server.js && \
    mkdir -p apps/portal/public

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="tollgate-portal"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    HOSTNAME=0.0.0.0 \
    PORT=3000 \
    NEXT_TELEMETRY_DISABLED=1
WORKDIR /app
COPY infra/docker/healthcheck.cjs ./healthcheck.cjs
COPY --from=builder /workspace/apps/portal/.next/standalone ./
COPY --from=builder /workspace/apps/portal/.next/static ./apps/portal/.next/static
COPY --from=builder /workspace/apps/portal/public ./apps/portal/public
# Next may write its cache here at run time (Kubernetes mounts an emptyDir on it: read-only root filesystem).
RUN mkdir -p apps/portal/.next/cache && chown 1000:1000 apps/portal/.next/cache
# uid/gid 1000 is the image's `node` user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.cjs", "/health/live"]
STOPSIGNAL SIGTERM
CMD ["node", "apps/portal/server.js"]
