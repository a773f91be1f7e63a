#!/usr/bin/env bash
# The deployment check (README, "Deploying"): builds docker/Dockerfile and runs docker-compose.yml
# with podman on this host, then tears it down; writes bench/results/deploy.json.
#   bash scripts/container-smoke.sh [--rebuild-base] [--keep] [--out FILE]
# Installs what is missing first: podman and the tools to build a Debian base image (Debian's
# packages), podman-compose (PyPI, pinned in constraints.txt) and the project's .venv.
# Needs root (a rootful podman), about 30 GB of disk and, on a fresh host, 15-25 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE_PACKAGES=(podman buildah runc catatonit containernetworking-plugins mmdebstrap uidmap)

missing=()
for package in "${ENGINE_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root)" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash scripts/dev.sh install
.venv/bin/python -m pip install -q -c constraints.txt podman-compose
PATH="$PWD/.venv/bin:$PATH" exec .venv/bin/python scripts/container_smoke.py "$@"
