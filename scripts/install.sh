#!/usr/bin/env bash
# Installs what tanto needs on a Debian/Ubuntu machine (as root), only what is
# missing: Debian packages, npm dependencies, then builds.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(runc tini docker-registry busybox-static util-linux iproute2 attr zstd git docker.io skopeo podman containernetworking-plugins dnsmasq socat openssh-server sshfs iptables nftables nodejs npm mmdebstrap jq qemu-user-static tmux fonts-dejavu-core gcc libc6-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (it does on the dev machines).
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
read -r -a missing <<<"${missing[*]}"
apt_updated=0
apt_install() {
  echo "installing Debian packages: $*" >&2
  [ "$apt_updated" = 1 ] || apt-get update -qq
  apt_updated=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent

# The official Python and Go SDKs, clients in test/python-sdk and test/go-sdk.
sdk_cache="${TANTO_CACHE_DIR:-$HOME/.cache/tanto}/sdk"
python_sdk=0.21.11
venv="$sdk_cache/python-venv"
command -v python3 >/dev/null || apt_install python3
if [ ! -x "$venv/bin/python" ]; then
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
  echo "creating $venv" >&2
  mkdir -p "$sdk_cache"
  python3 -m venv --clear "$venv"
fi
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("dagger-io"))' 2>/dev/null)" != "$python_sdk" ]; then
  echo "installing dagger-io==$python_sdk into $venv" >&2
  "$venv/bin/pip" install -q "dagger-io==$python_sdk" ||
    echo "warning: could not install dagger-io==$python_sdk; test/python-sdk.test will fail" >&2
fi

# Go's own tarball installs to /usr/local/go, often outside a non-login PATH.
command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || apt_install golang
go_want=$(sed -n 's/^go //p' test/fixtures/go-sdk/go.mod)
go_have=$(go env GOVERSION 2>/dev/null | sed 's/^go//' || true)
if [ "$(printf '%s\n%s\n' "$go_want" "$go_have" | sort -V | head -n1)" != "$go_want" ]; then
  echo "warning: go $go_have on PATH; the Go SDK (test/go-sdk.test) needs go $go_want or newer" >&2
else
  # Modules into the standard cache, so building the test program needs no network.
  (cd test/fixtures/go-sdk && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download) ||
    echo "warning: could not download the Go SDK's modules; test/go-sdk.test will fail" >&2
fi

# Helm from its Go module, for test/helm-chart.test (the chart in deploy/helm/tanto); built once into the cache.
helm_version=v3.22.0
helm_dir="${TANTO_CACHE_DIR:-$HOME/.cache/tanto}/helm-$helm_version"
if command -v go >/dev/null && [ ! -x "$helm_dir/helm" ]; then
  echo "building helm $helm_version into $helm_dir (several minutes the first time)" >&2
  mkdir -p "$helm_dir"
  GOBIN="$helm_dir" GOTOOLCHAIN=local go install "helm.sh/helm/v3/cmd/helm@$helm_version" ||
    echo "warning: could not build helm $helm_version; test/helm-chart.test will fail" >&2
fi

# The base images of TypeScript and Python module runtimes (cached in ~/.cache/tanto; a few minutes the first time).
node engine-image/typescript-runtime.mjs >/dev/null
node engine-image/python-runtime.mjs >/dev/null

# The base image of Go module runtimes: this machine's Go toolchain and the Go SDK library,
# compiled (cached in ~/.cache/tanto; several minutes the first time). Needs go on PATH.
if command -v go >/dev/null 2>&1; then
  node engine-image/go-runtime.mjs >/dev/null
fi
