#!/bin/sh
# Builds the demo candidates of bench/demo.yaml from the support-triage train split.
#   bench/models/demo-models.sh SLMBENCH OUTDIR
# These are demo models (bag-of-words naive Bayes classifiers expressed as llama-architecture
# GGUF weights, DESIGN.md §5), not language models: they exist because no weights can be
# downloaded here, and they run through the very same llama.cpp path as any GGUF file.
set -eu
SLMBENCH=$1
OUT=$2
ES=evalsets/support-triage
mkdir -p "$OUT"
make_model() { # name, then options
    name=$1; shift
    if [ ! -s "$OUT/$name.gguf" ] || [ "$ES/train.csv" -nt "$OUT/$name.gguf" ]; then
        "$SLMBENCH" models make --train "$ES/train.csv" --evalset "$ES" --out "$OUT/$name.gguf" \
            --name "$name" "$@"
    fi
}
quantize() { # from, to, type
    if [ ! -s "$OUT/$2.gguf" ] || [ "$OUT/$1.gguf" -nt "$OUT/$2.gguf" ]; then
        "$SLMBENCH" models quantize "$OUT/$1.gguf" "$OUT/$2.gguf" "$3"
    fi
}
make_model nb-300-f16 --vocab 300 --alpha 1.0 --layers 1 --type f16
make_model nb-1000-f16 --vocab 1000 --alpha 0.5 --layers 2 --type f16
quantize nb-1000-f16 nb-1000-q8_0 Q8_0
quantize nb-1000-f16 nb-1000-q4_k_m Q4_K_M
