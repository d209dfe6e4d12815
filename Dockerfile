# docktail's container image.
#
#   docker build -t docktail .                  # dependencies from the npm registry (the normal way)
#   docker build --network none --build-arg DEPS=context -t docktail <dir>
#                                                 # offline: <dir> must hold node_modules/ (see below)
#
# Stages: `build` installs every dependency, compiles TypeScript, then prunes the dev dependencies;
# the runtime stage copies the pruned node_modules, so it needs neither npm nor the network. The
# production dependencies are plain JavaScript (install scripts are skipped), so node_modules built on
# one platform runs on any.
#
# DEPS=npm (default): `npm ci` from the registry, in its own layer, cached until package-lock.json
# changes. DEPS=context: no network at all; node_modules/ comes from the build context, as installed by
# `npm ci` on a linux/<same arch> machine. The repository's .dockerignore keeps node_modules out of the
# context, so an offline build uses a context directory prepared for it (test/integration/image.test.ts
# does exactly that: the same Dockerfile, built with --network none against a private engine).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ARG DEPS=npm
COPY package.json package-lock.json ./
RUN if [ "$DEPS" = npm ]; then npm ci --ignore-scripts --no-audit --no-fund; \
    elif [ "$DEPS" != context ]; then echo "DEPS must be npm or context, not '$DEPS'" >&2; exit 1; fi
COPY . .
RUN if [ ! -d node_modules/typescript ]; then \
      echo "node_modules/ is missing: build with DEPS=npm, or put node_modules/ in the context" >&2; exit 1; fi \
 && npm run build \
 && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund \
 && find dist -name '*.map' -exec rm -f {} +

# Runtime: Node 24 LTS, production dependencies only, not root.
FROM ${NODE_IMAGE}
ARG NODE_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="docktail" \
      org.opencontainers.image.description="Ships every container's logs to Grafana Loki from an unchanged Promtail config, exactly once." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# NODE_OPTIONS: nothing per log line outlives a scavenge (batches hold encoded bytes), so 2 MB
# semi-spaces are enough; V8 would grow them to 16 MB while reading a backlog. Measured on the bench's
# 1M-line backlog: peak RSS 86.4 → 73.7–76.2 MB, CPU per line within the noise (README, Performance).
# The bench runs docktail with the NODE_OPTIONS set here.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=2 \
    DOCKTAIL_POSITIONS=/var/lib/docktail/positions.yaml \
    DOCKTAIL_HTTP_ADDRESS=0.0.0.0 \
    DOCKTAIL_HTTP_PORT=9080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/deploy/config.yaml /etc/docktail/config.yaml
# uid/gid 1000 is the base image's `node` user. It owns the positions volume and /var/log, so that a
# Promtail config keeping Promtail's default positions path (/var/log/positions.yaml) works unchanged.
# Reading the Docker socket needs its group: `group_add: ["<gid of the socket>"]` (or run as root).
RUN ln -s /app/bin/docktail.js /usr/local/bin/docktail \
 && mkdir -p /var/lib/docktail /var/log \
 && chown 1000:1000 /var/lib/docktail /var/log
USER 1000:1000
VOLUME /var/lib/docktail
EXPOSE 9080
# /ready: 200 once discovery ran, no client has failed for a minute and positions are writable. The
# port follows DOCKTAIL_HTTP_PORT; a config with another http_listen_port must set it to match.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DOCKTAIL_HTTP_PORT||9080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["docktail"]
CMD ["-config.file=/etc/docktail/config.yaml", "-config.expand-env=true"]
