# syntax=docker/dockerfile:1
#
# One image per Node service of Tollgate, chosen by the build argument APP (build context: repository root):
#   docker build -f infra/docker/node-service.Dockerfile --build-arg APP=proxy    --build-arg PORT=8080 -t tollgate/proxy .
#   docker build -f infra/docker/node-service.Dockerfile --build-arg APP=accounts --build-arg PORT=3001 -t tollgate/accounts .
#   docker build -f infra/docker/node-service.Dockerfile --build-arg APP=billing  --build-arg PORT=3002 -t tollgate/billing .
#   docker build -f infra/docker/node-service.Dockerfile --build-arg APP=mock-provider --build-arg APP_KIND=libs \
#     --build-arg PORT=18000 --build-arg HEALTH_PATH=/health -t tollgate/mock-provider .
#
# The working directory of the runtime image is the folder of the built entries (SESSION-CONVENTIONS:
# dist/apps/<app>/apps/<app>/src/), so one image serves every process of a service:
#   node main.js      the API (default CMD)
#   node worker.js    billing: the usage consumer (HEALTH_PORT 3012)
#   node migrate.js   accounts / billing: run the migrations and exit (compose one-shot, k8s Job)
#   node rebuild-projections.js   accounts: rebuild the Redis projections and exit
#   node cli.js       mock provider (APP=mock-provider, APP_KIND=libs)

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- builder: whole workspace, nx build
FROM ${NODE_IMAGE} AS builder
ARG APP
ARG APP_KIND=apps
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NEXT_TELEMETRY_DISABLED=1
WORKDIR /workspace
COPY package.json package-lock.json ./
# npm install, never npm ci: the lock file lacks other platforms' optional packages (TOOLCHAIN pitfall 1).
RUN npm install --no-audit --no-fund
COPY . .
RUN test -n "${APP}" || { echo 'build argument APP is required (accounts, billing, proxy, mock-provider)' >&2; exit 1; }; \
    npx nx run "${APP}:build" && \
    test -d "dist/${APP_KIND}/${APP}/${APP_KIND}/${APP}/src"

# ---------------------------------------------------------------- production dependencies only
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ARG APP
ARG APP_KIND=apps
ARG PORT=8080
# What the image's HEALTHCHECK probes: the services' liveness route; the mock provider answers on /health.
ARG HEALTH_PATH=/health/live
LABEL org.opencontainers.image.title="tollgate-${APP}"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=${PORT} \
    HEALTH_PATH=${HEALTH_PATH} \
    TOLLGATE_APP=${APP}
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./package.json
COPY infra/docker/healthcheck.cjs ./healthcheck.cjs
COPY --from=builder /workspace/dist/${APP_KIND}/${APP} ./dist/${APP_KIND}/${APP}
WORKDIR /app/dist/${APP_KIND}/${APP}/${APP_KIND}/${APP}/src
# uid/gid 1000 is the image's `node` user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.cjs"]
STOPSIGNAL SIGTERM
CMD ["node", "main.js"]
