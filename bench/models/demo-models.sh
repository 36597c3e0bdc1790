#!/bin/sh
# Builds the demo candidates of bench/demo.yaml from the support-triage train split.
#   bench/models/demo-models.sh SLMBENCH OUTDIR
# These are demo models (bag-of-words naive Bayes classifiers expressed as GGUF weights,
# DESIGN.md §5), not language models: they exist because no weights can be downloaded
# here, and they run through the very same llama.cpp path as any GGUF file. Two speak a
# real model's tokenizer (Qwen3's and Llama 3's byte-level BPE, with their chat
# templates and tied embeddings); one the project's own small SPM vocabulary.
set -eu
SLMBENCH=$1
OUT=$2
ES=evalsets/support-triage
mkdir -p "$OUT"
make_model() { # name, then options
    name=$1; shift
    if [ ! -s "$OUT/$name.gguf" ] || [ "$ES/train.csv" -nt "$OUT/$name.gguf" ] ||
       [ "$SLMBENCH" -nt "$OUT/$name.gguf" ]; then
        "$SLMBENCH" models make --train "$ES/train.csv" --evalset "$ES" --out "$OUT/$name.gguf" \
            --name "$name" "$@"
    fi
}
quantize() { # from, to, type
    if [ ! -s "$OUT/$2.gguf" ] || [ "$OUT/$1.gguf" -nt "$OUT/$2.gguf" ]; then
        "$SLMBENCH" models quantize "$OUT/$1.gguf" "$OUT/$2.gguf" "$3"
    fi
}
# the benchmarks' model (bench/perf/)
make_model nb-300-f16 --vocab 300 --alpha 1.0 --layers 1 --type f16
# the demo's candidates: the same classifier settings over three vocabularies, all Q8_0
make_model qwen3-nb-f16 --tokenizer qwen3 --vocab 1000 --alpha 0.5 --layers 2
make_model llama3-nb-f16 --tokenizer llama3 --vocab 1000 --alpha 0.5 --layers 2
make_model spm-nb-f16 --vocab 1000 --alpha 0.5 --layers 2
quantize qwen3-nb-f16 qwen3-nb-q8_0 Q8_0
quantize llama3-nb-f16 llama3-nb-q8_0 Q8_0
quantize spm-nb-f16 spm-nb-q8_0 Q8_0
