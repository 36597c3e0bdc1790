#!/bin/sh
# Installs what slmbench needs on Debian 12, and nothing that is already there.
# Idempotent: a second run only checks. Uses apt-get directly as root, sudo otherwise.
#
#   scripts/install-deps.sh [LLAMA_DIR]
#
# LLAMA_DIR (default build/third_party/llama) receives the pinned prebuilt llama.cpp
# libraries from the npm registry when the system has no llama.cpp (pkg-config llama).
set -eu

LLAMA_DIR=${1:-build/third_party/llama}
NPM_PKG=@node-llama-cpp/linux-x64
NPM_VER=3.22.1
# sha1 of the published tarball, as the registry reports it (npm view ... dist.shasum)
NPM_SHA1=cf9934edd4cf034260358123d65f9f8c9fb6b5fd
LLAMA_SONAME=libllama.v0.5.0.so

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
