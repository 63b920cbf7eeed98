#!/usr/bin/env bash
# Installs what tanto needs on a Debian/Ubuntu machine (as root), only what is
# missing: Debian packages, npm dependencies, then builds.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(runc tini pigz docker-registry busybox-static util-linux iproute2 attr zstd git docker.io skopeo podman containernetworking-plugins dnsmasq socat iptables nodejs npm mmdebstrap jq)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (it does on the dev machines).
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
