# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# Runtime stage: Node 24 LTS with production dependencies only.
FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="docktail" \
      org.opencontainers.image.description="Ships every container's logs to Grafana Loki from a Promtail config, exactly once." \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production \
    DOCKTAIL_POSITIONS=/var/lib/docktail/positions.yaml \
    DOCKTAIL_HTTP_ADDRESS=0.0.0.0
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY deploy/config.yaml /etc/docktail/config.yaml
RUN ln -s /app/bin/docktail.js /usr/local/bin/docktail && mkdir -p /var/lib/docktail
VOLUME /var/lib/docktail
EXPOSE 9080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.DOCKTAIL_HTTP_PORT||9080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["docktail"]
CMD ["-config.file=/etc/docktail/config.yaml", "-config.expand-env=true"]
