# Real chat templates end to end: demo models carrying the Qwen3 and Llama 3 templates
# (tests/fixtures/chat), the rendered bytes hashed per candidate and per example, the
# context sized from the eval set, an unusable template and a too-short context refused
# before any example, KV bytes, device and GPU layers recorded and reported.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
CH="$ROOT/tests/fixtures/chat"

for m in qwen3 llama3 garbage; do
    "$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/$m.gguf" \
        --vocab 40 --ctx 4096 --chat-template "$CH/$m.jinja" >/dev/null
done
"$SLMBENCH" models inspect "$TMP/qwen3.gguf" >"$TMP/out" 2>&1
expect_out '^chat template +yes' "models make --chat-template writes the template"
expect_exit 3 "models make with a missing template file" "$SLMBENCH" models make \
    --train "$FX/train.csv" --out "$TMP/x.gguf" --chat-template "$TMP/nonexistent.jinja"

cat >"$TMP/run.yaml" <<YAML
name: chat
evalset: $FX
threads: 1
warmup: 0
chat_template: true
candidates:
  - {name: qwen3, model: qwen3.gguf}
  - {name: llama3, model: llama3.gguf}
  - {name: raw, model: qwen3.gguf, chat_template: false}
YAML
expect_exit 0 "run with the models' own chat templates" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/r.db"
q() { sql "$TMP/r.db" "select $1 from candidates where name = '$2'"; }
[ "$(q chat_template qwen3)/$(q chat_template llama3)" = chatml/llama3 ] &&
    ok "template names recorded (chatml, llama3)" || notok "template names: $(q chat_template qwen3)/$(q chat_template llama3)"
for m in qwen3 llama3; do
    want=$(sha256sum "$CH/$m.jinja" | cut -d' ' -f1)
    [ "$(q chat_template_sha256 $m)" = "$want" ] && ok "$m: template text hash recorded" ||
        notok "$m: template hash $(q chat_template_sha256 $m), expected $want"
done
# The probe conversation, one user message, rendered to the exact bytes of each family.
want=$(printf '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n' | sha256sum | cut -d' ' -f1)
[ "$(q chat_probe_sha256 qwen3)" = "$want" ] && ok "qwen3: probe rendered as ChatML" ||
    notok "qwen3: probe hash $(q chat_probe_sha256 qwen3), expected $want"
want=$(printf '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n' | sha256sum | cut -d' ' -f1)
[ "$(q chat_probe_sha256 llama3)" = "$want" ] && ok "llama3: probe rendered with Llama 3 headers" ||
    notok "llama3: probe hash $(q chat_probe_sha256 llama3), expected $want"
n=$(sql "$TMP/r.db" "select count(distinct p.rendered_sha256) from predictions p join candidates c on c.id = p.candidate_id where c.name in ('qwen3', 'llama3') and length(p.rendered_sha256) = 64")
[ "$n" = 48 ] && ok "a rendered-prompt hash per example and template (48)" || notok "rendered hashes: $n of 48"
n=$(sql "$TMP/r.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = 'raw' and p.rendered_sha256 is null")
[ "$n" = 24 ] && ok "raw prompts carry no rendered hash (the example's prompt hash is it)" || notok "raw rendered hashes: $n"
# The context: what the eval set needs, rounded up to 256, far below the 4096 trained.
bad=$(sql "$TMP/r.db" "select count(*) from candidates where not (n_ctx % 256 = 0 and n_ctx >= n_ctx_need and n_ctx_need > 0 and n_ctx < n_ctx_train)")
[ "$bad" = 0 ] && ok "context sized from the eval set ($(q n_ctx qwen3) for $(q n_ctx_need qwen3) tokens)" ||
    notok "context sizes: $(sql "$TMP/r.db" "select name, n_ctx, n_ctx_need, n_ctx_train from candidates")"
[ "$(q n_ctx_need llama3)" -gt "$(q n_ctx_need raw)" ] && ok "the chat template's tokens count in the need" ||
    notok "needs: llama3 $(q n_ctx_need llama3), raw $(q n_ctx_need raw)"
n=$(sql "$TMP/r.db" "select count(*) from candidates where kv_bytes > 0 and n_gpu_layers = 0 and device = 'CPU' and peak_rss_kb > 0")
[ "$n" = 3 ] && ok "KV bytes, GPU layers 0, device CPU and peak memory recorded" ||
    notok "facts: $(sql "$TMP/r.db" "select name, kv_bytes, n_gpu_layers, device, peak_rss_kb from candidates")"
"$SLMBENCH" report last --db "$TMP/r.db" >"$TMP/out" 2>&1
expect_out '\| ctx needed \| KV cache \|.*\| device \|.*\| template sha256 \|' "report shows the new model facts"
expect_out '^\| llama3 \|.*\| 256 \| [0-9]+ \| 4\.0 MiB \|.*\| CPU \| llama3 \|' "report row of llama3"
"$SLMBENCH" report last --db "$TMP/r.db" --json >"$TMP/out" 2>&1
expect_out '"kv_bytes": [0-9]' "report --json has kv_bytes"
expect_out '"chat_probe_sha256": "[0-9a-f]{64}"' "report --json has the probe hash"

# A template llama.cpp cannot apply: refused at the candidate's start, with the reason.
cat >"$TMP/bad.yaml" <<YAML
name: chat-bad
evalset: $FX
threads: 1
chat_template: true
candidates:
  - {name: junk, model: garbage.gguf}
YAML
expect_exit 3 "unusable chat template refused" "$SLMBENCH" run "$TMP/bad.yaml" --db "$TMP/b.db"
expect_err "candidate 'junk': chat_template: the chat template of model .* is none of the formats llama.cpp can apply" \
    "the message names the candidate and the reason"
n=$(sql "$TMP/b.db" "select count(*) from predictions")
[ "$n" = 0 ] && ok "no example ran" || notok "$n predictions stored"

# An explicit n_ctx wins; a prompt it cannot hold is named before any example runs.
cat >"$TMP/short.yaml" <<YAML
name: short
evalset: $FX
threads: 1
chat_template: true
candidates:
  - {name: short, model: llama3.gguf, options: {n_ctx: 64}}
YAML
expect_exit 3 "a prompt longer than the context is refused" "$SLMBENCH" run "$TMP/short.yaml" --db "$TMP/s.db"
expect_err "candidate 'short': example 'te01' \(.*test\.csv:2\): the prompt has [0-9]+ tokens with the chat template, the context only 64 \(option n_ctx\)" \
    "the message names the example, its line and the token counts"
n=$(sql "$TMP/s.db" "select count(*) from predictions")
[ "$n" = 0 ] && ok "no example ran with the short context" || notok "$n predictions stored"
[ "$(sql "$TMP/s.db" "select n_ctx from candidates")" = 64 ] && ok "the explicit n_ctx is used" ||
    notok "n_ctx $(sql "$TMP/s.db" "select n_ctx from candidates")"

# n_gpu_layers: 8 refused at open, where no GPU backend loads (exit 4); abc refused with the
# config's other bad input before any model loads (check_options, exit 3).
for v in 8:4 abc:3; do
    code=${v#*:}; v=${v%:*}
    cat >"$TMP/gpu.yaml" <<YAML
name: gpu
evalset: $FX
threads: 1
candidates:
  - {name: gpu, model: qwen3.gguf, options: {n_gpu_layers: $v}}
YAML
    expect_exit "$code" "n_gpu_layers: $v refused" "$SLMBENCH" run "$TMP/gpu.yaml" --db "$TMP/gpu-$v.db"
    expect_err "option 'n_gpu_layers'" "the message names the option ($v)"
done
sed -i 's/n_gpu_layers: abc/n_gpu_layers: 0/' "$TMP/gpu.yaml"
expect_exit 0 "n_gpu_layers: 0 accepted" "$SLMBENCH" run "$TMP/gpu.yaml" --db "$TMP/gpu-0.db"
