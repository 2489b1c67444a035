#!/usr/bin/env bash
# Installs what Bootfarm needs on a fresh Debian 12 machine, idempotently and only what is
# missing: system packages (QEMU + firmware, image tools, PostgreSQL, Redis, Chromium...),
# the npm dependencies (npm ci, only when package-lock.json changed), then builds everything.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  qemu-system-arm qemu-efi-aarch64 qemu-efi-arm qemu-utils u-boot-qemu   # emulator core + firmware
  clang lld mtools dosfstools gdisk                                       # probe and fixture images
  postgresql redis-server                                                 # services (private instances)
  chromium                                                                # dashboard tests
  docker-compose                                                          # validates docker-compose.yml offline
  util-linux                                                              # setpriv, prlimit (QEMU containment)
  tmux                                                                    # terminal tests of the CLI's live progress
  python3 debian-archive-keyring                                          # fixture builders (apt-get download of arm64 packages)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: system packages present"
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.bootfarm-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
else
  echo "setup: node_modules up to date"
fi

npm run --silent build
