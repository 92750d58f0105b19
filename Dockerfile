# One image for every Shoal service and for the `shoal setup` job. Which of them a container runs is its
# command, set per service in docker-compose.yml, for example
#   node --max-semi-space-size=64 --import tsx services/orders/src/main.ts
#   node infra/cli/bin/shoal.js setup
# Like `npm start`, the image runs the TypeScript sources through tsx: there is no build step to drift
# from what the tests ran.
#
# Two stages. `build` has the compiler toolchain that better-sqlite3 falls back to when no prebuilt
# binary fits the platform, runs `npm ci` (whose `prepare` script generates libs/contract/src/generated
# from schemas/) and then drops the development packages. `runtime` gets only what running needs, owned
# by root and read-only to the unprivileged `node` user that runs it; a service writes only under /data.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci \
    && npm prune --omit=dev \
    && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SHOAL_DATA_DIR=/data \
    HOST=0.0.0.0
WORKDIR /app
# tsconfig.json too: tsx compiles with the same settings as the tests did.
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/libs ./libs
COPY --from=build /app/infra ./infra
COPY --from=build /app/services ./services
# A named volume mounted here starts as a copy of this directory, so it is the node user's too.
RUN mkdir /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3001 3002 3003 3004 3005 3006
CMD ["node", "infra/cli/bin/shoal.js", "--help"]
