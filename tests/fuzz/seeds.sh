#!/bin/sh
# Refreshes the fuzz targets' seed inputs, tests/fuzz/corpus/<target>/seed-*, from the
# test fixtures, the eval sets and the demo config (make fuzz-seeds). Seeds are small:
# split files are cut to their first lines, at most a few KB each. Inputs that fuzzing
# found (the other files of the corpus, merged by make fuzz) are left alone.
#
#   tests/fuzz/seeds.sh [SLMBENCH]    SLMBENCH (default build/slmbench) converts the
#                                     test tokenizers into small GGUF vocabularies
set -eu
cd "$(dirname "$0")/../.."
SLMBENCH=${1:-build/slmbench}
C=tests/fuzz/corpus
mkdir -p "$C/evalset" "$C/config" "$C/gguf" "$C/http"
rm -f "$C"/*/seed-*

# seed TARGET NAME: stdin becomes the seed, cut to 4 KB
seed() { head -c 4096 >"$C/$1/seed-$2"; }
# flagged TARGET NAME FLAGS FILE: the option byte(s) (octal escapes), then the file's
# first 12 lines
flagged() { { printf "$3"; head -n 12 "$4"; } | seed "$1" "$2"; }

# evalset: option byte (fuzz_evalset.c): 1 JSON lines, 2 skip bad rows, 4 label set,
# 8 invoice-extract fields
for f in tests/fixtures/tiny/*.csv tests/fixtures/tiny_train.csv tests/fixtures/replay/preds.csv \
         evalsets/*/test.csv; do
    n=$(echo "$f" | tr '/' '_')
    flagged evalset "$n" '\000' "$f"
    flagged evalset "skip-$n" '\002' "$f"
done
flagged evalset labels-tiny '\004' tests/fixtures/tiny/test.csv
flagged evalset invoice-csv '\010' tests/fixtures/fuzz/seeds/invoice.csv
flagged evalset invoice-jsonl '\011' tests/fixtures/fuzz/seeds/invoice.jsonl
flagged evalset tiny-jsonl '\001' tests/fixtures/fuzz/seeds/tiny.jsonl
flagged evalset tiny-jsonl-skip '\003' tests/fixtures/fuzz/seeds/tiny.jsonl
printf '\000\357\273\277id,text,label\r\na,"quoted\r\n""text""",billing\r\nb,x,shipping\r\n' |
    seed evalset bom-crlf
printf '\001{"id":"a","text":"t","label":"x","label":"y"}\n' | seed evalset dup-key

# config: run configs and other YAML (evalset.yaml files exercise the parser too)
seed config demo.yaml <bench/demo.yaml
seed config run.yaml <tests/fixtures/fuzz/seeds/run.yaml
for f in tests/fixtures/fuzz/config/*.in evalsets/*/evalset.yaml tests/fixtures/tiny/evalset.yaml; do
    seed config "$(echo "$f" | tr '/' '_')" <"$f"
done
head -c 300 tests/fixtures/fuzz/yaml/deep_nesting.in | seed config deep-nesting
cat <<'YAML' | seed config full.yaml
name: all-keys
evalset: evalsets/support-triage
split: test
mode: generate
threads: 2
warmup: 1
repeats: 3
concurrency: 4
interleave: true
interleave_turn: 2
quantization: mixed
choice_prefix: " "
max_tokens: 8
stop: ["\n", "</s>"]
chat_template: true
limit: 10
skip_bad_rows: yes
commit_every: 4
calibration_split: calibration
few_shot: 2
few_shot_seed: 7
score_norm: mean
seed: 3
bootstrap: 200
coverage_targets: [0.5, 0.9]
events: [instructions, task-clock]
requirements: {min_accuracy: 0.8, max_ece: 0.1, max_p95_ms: 50}
cascade: {threshold: 0.85, slm_cost: 0.0001, escalation_cost: 0.005, escalation_accuracy: 0.95}
candidates:
  - name: a
    engine: openai
    model: m
    concurrency: 2
    options: {base_url: "http://127.0.0.1:1/v1", retries: 0, stream: 1}
  - name: b
    model: models/b.gguf
    chat_template: false
    options:
      n_ctx: 512
YAML

# gguf: the test tokenizers as GGUF vocabularies, and a small model with every value
# type and two tensors (written by python3, when there is one)
for t in bpe_gpt2 bpe_llama bpe_qwen; do
    "$SLMBENCH" models make --tokenizer "tests/fixtures/hftokenizer/$t/tokenizer.json" \
        --vocab-only --out "$C/gguf/seed-$t.gguf" >/dev/null
done
if command -v python3 >/dev/null 2>&1; then
    python3 - "$C/gguf/seed-types.gguf" <<'PY'
import struct, sys
def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
kv = [
    ('general.architecture', 8, s('llama')), ('general.name', 8, s('seed')),
    ('general.file_type', 4, struct.pack('<I', 0)), ('llama.context_length', 4, struct.pack('<I', 64)),
    ('llama.embedding_length', 10, struct.pack('<Q', 4)), ('llama.block_count', 5, struct.pack('<i', 1)),
    ('a.u8', 0, b'\x07'), ('a.i8', 1, b'\xff'), ('a.u16', 2, struct.pack('<H', 9)),
    ('a.i16', 3, struct.pack('<h', -9)), ('a.f32', 6, struct.pack('<f', 0.5)), ('a.bool', 7, b'\x01'),
    ('a.i64', 11, struct.pack('<q', -5)), ('a.f64', 12, struct.pack('<d', 2.5)),
    ('tokenizer.ggml.model', 8, s('llama')),
    ('tokenizer.ggml.tokens', 9, struct.pack('<IQ', 8, 3) + s('<s>') + s('a') + s('b')),
    ('tokenizer.ggml.scores', 9, struct.pack('<IQ', 6, 3) + struct.pack('<3f', 0, -1, -2)),
    ('tokenizer.ggml.bos_token_id', 4, struct.pack('<I', 0)),
]
tensors = [('token_embd.weight', [4, 3], 0), ('output_norm.weight', [4], 1)]  # f32, f16
out = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kv))
for k, t, v in kv:
    out += s(k) + struct.pack('<I', t) + v
off, data = 0, b''
for name, ne, typ in tensors:
    out += s(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', n) for n in ne)
    out += struct.pack('<IQ', typ, off)
    n = 1
    for d in ne: n *= d
    blob = struct.pack('<%df' % n, *range(n)) if typ == 0 else struct.pack('<%de' % n, *range(n))
    blob += b'\0' * (-len(blob) % 32)
    data += blob
    off += len(blob)
out += b'\0' * (-len(out) % 32)
open(sys.argv[1], 'wb').write(out + data)
PY
fi

# http: option bytes (fuzz_http.c), then optional headers, then the body
J='{"choices":[{"message":{"content":"billing"},"finish_reason":"stop","logprobs":{"content":[{"token":"bill","logprob":-0.1},{"token":"ing","logprob":-0.2}]}}],"usage":{"prompt_tokens":12,"completion_tokens":2},"timings":{"prompt_ms":1.5,"predicted_ms":2.5}}'
printf '\001\000%s' "$J" | seed http chat.json
printf '\001\000HTTP/1.1 200 OK\r\nServer: llama.cpp\r\nContent-Type: application/json\r\n\r\n%s' "$J" |
    seed http chat-headers.json
printf '\000\000{"choices":[{"text":" shipping","finish_reason":"length","logprobs":{"token_logprobs":[-0.5,-1.25]}}],"prompt_eval_count":9,"eval_count":2,"prompt_eval_duration":1000000,"eval_duration":2000000,"total_duration":4000000}' |
    seed http completions.json
printf '\004\000{"choices":[{"text":"echo","logprobs":{"token_logprobs":[null,-0.5]}}]}' | seed http raw.json
printf '\003\000data: {"choices":[{"delta":{"content":"bil"}}]}\n\ndata: {"choices":[{"delta":{"content":"ling"},"finish_reason":"stop","logprobs":{"content":[{"logprob":-0.3}]}}]}\n\n: comment\nevent: x\ndata: [DONE]\n\n' |
    seed http chat-stream.sse
printf '\023\000data:{"choices":[{"delta":{"content":"a"}}]}\r\n\r\ndata:{"choices":[{"delta":{"content":"b"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}\r\n\r\ndata:  [DONE]\r\n\r\ndata: after' |
    seed http chat-stream-crlf.sse
printf '\062\000data: {"choices":[{"text":"x"}]}\n\ndata: {"choices":[{"text":"y","finish_reason":"length"}]}' |
    seed http completions-stream-noeol.sse
printf '\003\000data: {"error":{"message":"model overloaded"}}\n\n' | seed http stream-error.sse
printf '\003\000data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {not json\n\n' | seed http stream-bad.sse
printf '\001\000HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n{"error":{"message":"slow down, key sk-abcdefghijklmnop"}}' |
    seed http 429.json
printf '\003\000HTTP/1.1 500 Internal\r\nServer: x\r\n\r\n{"error":"boom"}' | seed http 500-stream.json
printf '\001\001{"error":{"message":"bad request","type":"invalid"}}' | seed http 400.json
printf '\001\000{"object":"chat.completion","choices":[]}' | seed http no-choices.json
printf '\011\000{"choices":[{"message":{"content":"%s"}}]}' "$(head -c 1100 /dev/zero | tr '\0' 'a')" |
    seed http too-large.json
printf '\201\000HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{"choices":[{"message":{"content":"late"}}]}' |
    seed http continue-dropped.json
echo "seeds: $(ls "$C"/*/seed-* | wc -l) files in $C/"
