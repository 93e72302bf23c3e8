#!/usr/bin/env bash
# render_keys.sh — the text face shows every top-level key of a result, as --json has it: a
# key's line (or its table's heading) is in the text output. The exceptions are the ones the
# renderer documents: a derivation's `steps` array (drawn as numbered steps after the keys) and
# a table's `columns` (the order of its rows' columns). A table's rows may differ in their
# keys: each key of any row is a column or named below the table. `lab gpt train` used to
# hide its `steps` count, a plain number, because the renderer skipped every key named steps;
# `lab gpt generate` hid `same_as_first`, which its first row (the reference) lacks, because
# the columns came from the first row alone.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tiny="d=16 layers=1 heads=2 ctx=16 corpus=datasets/gpt-kjv-heldout.txt"
cmds=(
    "lab gpt train steps=3 $tiny"
    "lab gpt qat steps=1 bits=4 corpus=datasets/gpt-fortunes.txt chars=512"
    "load datasets/default.npy; derive 0.1"
    "load datasets/default.npy; stats"
    "load datasets/default.npy; quant"
    "load datasets/default.npy; gptq bits=4 trace=1"
    "lab int"
    "derive requant M=0.002 acc=12345"
    "lab gpt generate formats=fp32,int4-channel n=20"
)
n=0
for c in "${cmds[@]}"; do
    NO_COLOR=1 COLUMNS=200 "$QSCOPE" -c "$c" > "$tmp/text" 2>/dev/null || fail "'$c' exit $?"
    "$QSCOPE" --json -c "$c" 2>/dev/null | tail -1 > "$tmp/json" || fail "'$c' --json exit $?"
    python3 - "$tmp/json" "$tmp/text" "$c" <<'PY' || exit 1
import json, re, sys
res = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().splitlines()
missing = []
for k, v in res.items():
    if k == "steps" and isinstance(v, list):
        continue                        # a trace: numbered steps, not a key line
    if k == "columns" and "rows" in res:
        continue                        # the rows' column order
    if not any(l.startswith(k + " ") or l == k or l.startswith(k + ":") for l in lines):
        missing.append(f"{k} ({json.dumps(v)[:40]})")
text = "\n".join(lines)
for k, v in res.items():
    if k != "steps" and isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
        for rk in sorted({rk for r in v for rk in r}):
            if not re.search(r"(^|[\s,:(])" + re.escape(rk) + r"($|[\s,:)])", text, re.M):
                missing.append(f"{k}[].{rk}")
if missing:
    sys.exit(f"FAIL: '{sys.argv[3]}': the text output lacks {', '.join(missing)}")
PY
    n=$((n + 1))
done
# a table cell holding a 95% interval reads as one, [lo, hi], and a shape as AxB: the
# renderer once drew every short array as a shape, so fp32_acc_ci95 read "0.949492×0.984801"
NO_COLOR=1 COLUMNS=240 "$QSCOPE" -c "lab sweep bits=3..4" > "$tmp/text" 2>/dev/null || fail "lab sweep exit $?"
grep -Eq '^ +3 .*\[0\.[0-9]+, 0\.[0-9]+\]' "$tmp/text" || fail "no [lo, hi] interval in: $(cat "$tmp/text")"
grep -q '[0-9]×0\.' "$tmp/text" && fail "an interval drawn as a product: $(cat "$tmp/text")"
NO_COLOR=1 "$QSCOPE" -c "load datasets/default.npy; tensors" | grep -Eq '^ +default +F32 +64×64 ' \
    || fail "the tensor list's shape is not 64×64"
echo "render_keys: ok ($n commands)"
