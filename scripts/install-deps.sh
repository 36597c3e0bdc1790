#!/bin/sh
# Installs what slmbench needs on Debian 12, and nothing that is already there.
# Idempotent: a second run only checks. Uses apt-get directly as root, sudo otherwise.
#
#   scripts/install-deps.sh [LLAMA_DIR]
#
# LLAMA_DIR (default build/third_party/llama) receives the pinned prebuilt llama.cpp
# libraries from the npm registry when the system has no llama.cpp (pkg-config llama).
# Where an NVIDIA driver is present, LLAMA_DIR-cuda receives the same release's CUDA
# build too (its libggml-cuda.so is the GPU backend the llamacpp engine loads); set
# SLM_LLAMA_CUDA=0 to skip it. The CPU libraries stay the default path.
set -eu

LLAMA_DIR=${1:-build/third_party/llama}
NPM_PKG=@node-llama-cpp/linux-x64
NPM_VER=3.22.1
# sha1 of the published tarball, as the registry reports it (npm view ... dist.shasum)
NPM_SHA1=cf9934edd4cf034260358123d65f9f8c9fb6b5fd
LLAMA_SONAME=libllama.v0.5.0.so
CUDA_PKG=@node-llama-cpp/linux-x64-cuda
CUDA_SHA1=cc2f74eedb0df653a1195f6a168a5f88119dcd00
CUDA_DIR=$LLAMA_DIR-cuda

PKGS="build-essential pkg-config sqlite3 libsqlite3-dev libcsv-dev libyaml-dev \
libjansson-dev libcurl4-openssl-dev libpapi-dev libcmocka-dev gnuplot-nox \
ca-certificates curl"

say() { printf 'install-deps: %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi

missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if ! command -v npm >/dev/null 2>&1 && ! pkg-config --exists llama 2>/dev/null; then
    missing="$missing npm"
fi
if [ -n "$missing" ]; then
    say "installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if pkg-config --exists llama 2>/dev/null; then
    say "using the system llama.cpp ($(pkg-config --modversion llama))"
    exit 0
fi

# The CUDA build, where a driver can use it (nvidia-smi answers or the kernel module is in).
has_nvidia() {
    { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; } ||
        [ -e /proc/driver/nvidia/version ]
}
if [ "${SLM_LLAMA_CUDA:-1}" != 0 ] && has_nvidia &&
   ! { [ -f "$CUDA_DIR/lib/libggml-cuda.so" ] && [ -f "$CUDA_DIR/VERSION" ] &&
       [ "$(cat "$CUDA_DIR/VERSION")" = "$CUDA_PKG@$NPM_VER" ]; }; then
    say "NVIDIA driver found: fetching $CUDA_PKG@$NPM_VER"
    ctmp=$(mktemp -d)
    (cd "$ctmp" && npm pack --silent "$CUDA_PKG@$NPM_VER" >/dev/null)
    csum=$(sha1sum "$ctmp"/*.tgz | cut -d' ' -f1)
    if [ "$csum" != "$CUDA_SHA1" ]; then
        rm -rf "$ctmp"
        say "error: $CUDA_PKG@$NPM_VER has sha1 $csum, expected $CUDA_SHA1"
        exit 1
    fi
    tar -xzf "$ctmp"/*.tgz -C "$ctmp"
    rm -rf "$CUDA_DIR.new"
    mkdir -p "$CUDA_DIR.new/lib"
    find "$ctmp/package/bins" -name '*.so*' -exec cp {} "$CUDA_DIR.new/lib/" \;
    cp "$ctmp"/package/LICENSE "$CUDA_DIR.new/LICENSE" 2>/dev/null || :
    rm -rf "$ctmp"
    if [ ! -f "$CUDA_DIR.new/lib/libggml-cuda.so" ]; then
        rm -rf "$CUDA_DIR.new"
        say "error: $CUDA_PKG@$NPM_VER holds no libggml-cuda.so"
        exit 1
    fi
    printf '%s\n' "$CUDA_PKG@$NPM_VER" > "$CUDA_DIR.new/VERSION"
    rm -rf "$CUDA_DIR"
    mv "$CUDA_DIR.new" "$CUDA_DIR"
    say "llama.cpp CUDA backend in $CUDA_DIR/lib (needs the CUDA 12 runtime to load)"
fi

if [ -f "$LLAMA_DIR/lib/$LLAMA_SONAME" ] && [ -f "$LLAMA_DIR/VERSION" ] &&
   [ "$(cat "$LLAMA_DIR/VERSION")" = "$NPM_PKG@$NPM_VER" ]; then
    exit 0
fi

say "fetching prebuilt llama.cpp: $NPM_PKG@$NPM_VER"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$NPM_PKG@$NPM_VER" >/dev/null)
tgz=$(ls "$tmp"/*.tgz)
sum=$(sha1sum "$tgz" | cut -d' ' -f1)
if [ "$sum" != "$NPM_SHA1" ]; then
    say "error: $NPM_PKG@$NPM_VER has sha1 $sum, expected $NPM_SHA1"
    exit 1
fi
tar -xzf "$tgz" -C "$tmp"
rm -rf "$LLAMA_DIR.new"
mkdir -p "$LLAMA_DIR.new/lib"
cp "$tmp"/package/bins/linux-x64/*.so "$LLAMA_DIR.new/lib/"
cp "$tmp"/package/LICENSE "$LLAMA_DIR.new/LICENSE"
printf '%s\n' "$NPM_PKG@$NPM_VER" > "$LLAMA_DIR.new/VERSION"
rm -rf "$LLAMA_DIR"
mv "$LLAMA_DIR.new" "$LLAMA_DIR"
say "llama.cpp libraries in $LLAMA_DIR/lib"
