#!/usr/bin/env bash
# methods.sh — issue 17: `methods` puts rtn, gptq, awq, rotate, w8a8, smoothquant and llmint8
# side by side on the current tensor; each row's numbers are the ones the single-method
# command reports for the same keys (non-default keys, so a key `methods` ignored would show),
# the rotate row's weight SQNR is `rotate`'s after-rotation SQNR on its sym per-row grid,
# gains are differences of the rows' own SQNRs, a row that cannot run says why, and a tensor
# beyond the size limit is refused with the numbers.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

acts="n=128 outliers=3 oscale=12 seed=5"
"$QSCOPE" --json -c "load datasets/default.npy; methods bits=3 group=32 sym alpha=0.7 threshold=4 $acts" \
    > "$tmp/m.json" || fail "methods exit $?"
"$QSCOPE" --json -c "load datasets/default.npy; gptq bits=3 group=32 sym trace=0 $acts; awq bits=3 group=32 sym $acts; smoothquant alpha=0.7 $acts; llmint8 threshold=4 $acts" \
    > "$tmp/one.json" || fail "method commands exit $?"
"$QSCOPE" --json -c "load datasets/default.npy; methods bits=4 group=0 sym; rotate seed=1 bits=4" \
    > "$tmp/rot.json" || fail "rotate exit $?"
"$QSCOPE" --json -c "synth normal n=2400; reshape 40x60; methods" > "$tmp/odd.json" ||
    fail "methods on 40x60 exit $?"
err=$("$QSCOPE" -c "synth normal n=4194304; reshape 2048x2048; methods" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "a 2048 x 2048 tensor: exit $rc, want 2"
grep -qF "256 × 2048 × 2048 = 1.07e+09 multiply-adds" <<<"$err" || fail "size limit message: $err"

python3 - "$tmp" <<'PY' || fail "values"
import json, math, sys
d = sys.argv[1]
def docs(name):
    dec, text, out, i = json.JSONDecoder(), open(f"{d}/{name}").read(), [], 0
    while i < len(text):
        while i < len(text) and text[i].isspace(): i += 1
        if i >= len(text): break
        o, i = dec.raw_decode(text, i)
        out.append(o)
    return out
def close(a, b, tol, what):
    if a is None or b is None or abs(a - b) > tol:
        sys.exit(f"{what}: {a} vs {b}")
m = docs("m.json")[-1]
rows = {r["method"]: r for r in m["rows"]}
want = ["rtn", "gptq", "awq", "rotate", "w8a8", "smoothquant", "llmint8"]
if [r["method"] for r in m["rows"]] != want: sys.exit(f"rows: {[r['method'] for r in m['rows']]}")
for r in m["rows"]:
    for k in ("method", "bits", "out_sqnr_db", "gain_db", "baseline", "weight_sqnr_db", "out_mse",
              "baseline_sqnr_db", "quantizes", "grid", "note"):
        if k not in r: sys.exit(f"{r['method']}: no key {k}")
if m["grid"] != "int3 sym per-group 32": sys.exit(f"grid {m['grid']}")
if "synthetic activations: 128 rows" not in m["activations"] or "3 planted" not in m["activations"]:
    sys.exit(f"activations label: {m['activations']}")
gptq, awq, sq, li = docs("one.json")[1:]
if m["outlier_channels"] != gptq["outlier_channels"]: sys.exit("outlier channels differ")
T = 1e-9
close(rows["rtn"]["out_sqnr_db"], gptq["rtn_out_sqnr_db"], T, "rtn")
close(rows["rtn"]["out_mse"], gptq["rtn_out_mse"], 1e-12, "rtn mse")
close(rows["gptq"]["out_sqnr_db"], gptq["gptq_out_sqnr_db"], T, "gptq")
close(rows["gptq"]["out_mse"], gptq["gptq_out_mse"], 1e-12, "gptq mse")
close(rows["awq"]["out_sqnr_db"], awq["awq_out_sqnr_db"], T, "awq")
close(rows["awq"]["baseline_sqnr_db"], awq["rtn_out_sqnr_db"], T, "awq's rtn")
close(rows["w8a8"]["out_sqnr_db"], sq["sqnr_w8a8_db"], T, "w8a8")
close(rows["w8a8"]["out_sqnr_db"], li["sqnr_int8_db"], T, "w8a8 (llmint8's)")
close(rows["smoothquant"]["out_sqnr_db"], sq["sqnr_smoothed_db"], T, "smoothquant")
close(rows["llmint8"]["out_sqnr_db"], li["sqnr_llmint8_db"], T, "llmint8")
if f"{li['kept_columns']} of 64 columns" not in rows["llmint8"]["note"]:
    sys.exit(f"llmint8 note: {rows['llmint8']['note']}")
for k, base in (("gptq", "rtn"), ("rotate", "rtn"), ("smoothquant", "w8a8"), ("llmint8", "w8a8")):
    close(rows[k]["gain_db"], rows[k]["out_sqnr_db"] - rows[base]["out_sqnr_db"], 1e-9, f"{k} gain")
close(rows["awq"]["gain_db"], awq["awq_out_sqnr_db"] - awq["rtn_out_sqnr_db"], 1e-9, "awq gain")
for k in ("rtn", "w8a8"):
    if rows[k]["gain_db"] is not None or rows[k]["baseline"] is not None: sys.exit(f"{k} has a baseline")
# held-out rows (fresh activations of the same distribution): the same numbers as the single
# commands' heldout_* keys, gains as differences, and not the calibration rows' numbers
close(rows["rtn"]["heldout_sqnr_db"], gptq["heldout_rtn_out_sqnr_db"], T, "held-out rtn")
close(rows["gptq"]["heldout_sqnr_db"], gptq["heldout_gptq_out_sqnr_db"], T, "held-out gptq")
close(rows["awq"]["heldout_sqnr_db"], awq["heldout_awq_out_sqnr_db"], T, "held-out awq")
close(rows["awq"]["heldout_gain_db"], awq["heldout_awq_out_sqnr_db"] - awq["heldout_rtn_out_sqnr_db"],
      1e-9, "held-out awq gain")
for k, base in (("gptq", "rtn"), ("rotate", "rtn"), ("smoothquant", "w8a8"), ("llmint8", "w8a8")):
    close(rows[k]["heldout_gain_db"], rows[k]["heldout_sqnr_db"] - rows[base]["heldout_sqnr_db"],
          1e-9, f"{k} held-out gain")
for k in want:
    if abs(rows[k]["heldout_sqnr_db"] - rows[k]["out_sqnr_db"]) < 1e-6:
        sys.exit(f"{k}: held-out SQNR equals the calibration rows' ({rows[k]['out_sqnr_db']})")
# rotation on rotate's own grid (int4 sym per row): weight SQNRs before / after
mr, rot = docs("rot.json")[1:]
rr = {r["method"]: r for r in mr["rows"]}
close(rr["rtn"]["weight_sqnr_db"], rot["sqnr_before_db"], 1e-6, "rtn weight SQNR = rotate's before")
close(rr["rotate"]["weight_sqnr_db"], rot["sqnr_after_db"], 1e-3, "rotate weight SQNR = rotate's after")
# a row that cannot run says why, and the others still run
o = {r["method"]: r for r in docs("odd.json")[-1]["rows"]}
if o["rotate"]["out_sqnr_db"] is not None or "not a power of two" not in o["rotate"]["note"]:
    sys.exit(f"rotate on rows of 60: {o['rotate']}")
if not isinstance(o["gptq"]["out_sqnr_db"], float): sys.exit("gptq did not run on 40x60")
PY
echo "methods: ok"
