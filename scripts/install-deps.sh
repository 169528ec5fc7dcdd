#!/usr/bin/env bash
# Installs every Debian package ludus needs. Idempotent; run as root or through sudo.
set -euo pipefail

# The one list of packages the project builds and runs with.
PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libbox2d-dev libbullet-dev
  libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core
  libyaml-cpp-dev libcli11-dev libfmt-dev libzstd-dev libstb-dev
  libtorch-dev libopenblas0-pthread libgloo-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  clang
  python3-dev python3-numpy python3-pytest pybind11-dev
)

# --python-example: also Debian's torch for Python, which only python/examples/ppo_reach.py needs.
if [ "${1:-}" = "--python-example" ]; then PACKAGES+=(python3-torch); fi

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
