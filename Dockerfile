# One build, three targets. The worker image carries QEMU and the UEFI firmware.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN apt-get update && apt-get install -y --no-install-recommends clang lld mtools dosfstools gdisk \
 && npm ci --no-audit --no-fund && npm run build

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY --from=build /app /app

FROM runtime AS scheduler
CMD ["node", "apps/scheduler/dist/main.js"]

FROM runtime AS worker
RUN apt-get update && apt-get install -y --no-install-recommends qemu-system-arm qemu-efi-aarch64 qemu-efi-arm \
    qemu-utils u-boot-qemu util-linux && rm -rf /var/lib/apt/lists/*
CMD ["node", "apps/worker/dist/main.js"]

FROM runtime AS dashboard
WORKDIR /app/apps/dashboard
CMD ["npx", "vite", "preview"]
