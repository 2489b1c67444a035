# One build, three targets (docker-compose.yml builds each with `target:`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
# clang/lld/mtools/dosfstools/gdisk build the probe image; qemu-utils is used by the build's checks.
RUN apt-get update && apt-get install -y --no-install-recommends clang lld mtools dosfstools gdisk qemu-utils \
 && npm ci --no-audit --no-fund && npm run build

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app

# Scheduler: API, intake (qemu-img info under prlimit), live console, /metrics. Port 8080.
FROM runtime AS scheduler
RUN apt-get update && apt-get install -y --no-install-recommends qemu-utils util-linux && rm -rf /var/lib/apt/lists/*
EXPOSE 8080
CMD ["node", "apps/scheduler/dist/main.js"]

# Worker: QEMU (aarch64 + arm), edk2 and U-Boot firmware, setpriv/prlimit for containment.
FROM runtime AS worker
RUN apt-get update && apt-get install -y --no-install-recommends qemu-system-arm qemu-efi-aarch64 qemu-efi-arm \
    qemu-utils u-boot-qemu util-linux && rm -rf /var/lib/apt/lists/*
CMD ["node", "apps/worker/dist/main.js"]

# Dashboard: the built assets behind nginx, which proxies /api to SCHEDULER_URL.
FROM nginx:1.27-alpine AS dashboard
COPY --from=build /app/apps/dashboard/dist /usr/share/nginx/html
COPY deploy/nginx/dashboard.conf.template /etc/nginx/templates/default.conf.template
ENV SCHEDULER_URL=http://scheduler:8080 DASHBOARD_PORT=5173
EXPOSE 5173
