#!/usr/bin/env bash
# readme_figures.sh — the figures README's tables quote are what qscope prints now: each cell
# must lie within half a unit of its last written digit of the program's value (as
# `lesson check --strict` holds narration numbers). Tables checked: the MLP lab's sweep
# (`lab sweep bits=2..8`), the GPT lab's sweep (the shipped model; a cheap subset of the
# formats, every column), the MX/NVFP4 SQNR table (`compare`) and the `methods` sentence.
# (README's fp32 sweep row quoted KLD 9e-09 / p99 7.1e-08 where the lab prints 0: the fp32
# reference is KL 0 exactly.)
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gptfmts="fp32,int8-channel,int4-channel,nf4-dq,q6_k,q4_k,kv-int8,w8a8-token"
"$QSCOPE" --json -c "lab sweep bits=2..8" > "$tmp/lab.json" || fail "lab sweep exit $?"
"$QSCOPE" --json -c "lab gpt sweep formats=$gptfmts" > "$tmp/gpt.json" || fail "gpt sweep exit $?"
"$QSCOPE" --json -c "load datasets/default.npy; compare calibs=minmax formats=mxint8,mxfp8_e4m3,mxfp6_e2m3,mxfp6_e3m2,nvfp4,q4_0,mxfp4" \
    > "$tmp/mx.json" || fail "compare exit $?"
"$QSCOPE" --json -c "load datasets/default.npy; scheme int4; methods" > "$tmp/methods.json" ||
    fail "methods exit $?"

python3 - "$tmp" README.md "$gptfmts" <<'PY' || fail "README figures"
import json, re, sys
tmp, readme, gptfmts = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3].split(",")
def last(name):
    return json.loads(open(f"{tmp}/{name}").read().strip().splitlines()[-1])
bad = []
def near(text, value, what, scale=1.0):
    """text is README's cell ('4.6622', '5.4e-05', '0', '99.58 %'); value the program's"""
    t = text.strip().rstrip("%").strip().replace(",", "")
    m = re.fullmatch(r"-?(\d+)(?:\.(\d+))?(?:e([-+]?\d+))?", t)
    if not m:
        bad.append(f"{what}: cannot read '{text}'"); return
    dec = len(m.group(2) or "")
    exp = int(m.group(3) or 0)
    half = 0.5 * 10.0 ** (exp - dec)
    v = value * scale
    if not abs(v - float(t)) <= half * (1 + 1e-9):
        bad.append(f"{what}: README says {text.strip()}, qscope prints {v:.6g}")
def table_after(marker):
    i = readme.index(marker)
    rows, started = [], False
    for line in readme[i:].splitlines()[1:]:
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif started:
            break
    return rows[1:]                     # without the heading

# the MLP lab's sweep: weights | PTQ | QAT | integer-only agreement
lab = {r["bits"]: r for r in last("lab.json")["rows"]}
for cells in table_after("Measured on digits with the default seed"):
    w = cells[0]
    if w == "fp32":
        near(cells[1], lab[8]["fp32_acc"], "lab fp32", 100); continue
    b = int(w[1])
    near(cells[1], lab[b]["ptq_acc"], f"lab {w} PTQ", 100)
    near(cells[2].split()[0], lab[b]["qat_acc"], f"lab {w} QAT", 100)
    near(cells[3], lab[b]["int_agree"], f"lab {w} agreement", 100)

# the GPT lab's sweep: format | bits/weight | ppl | KLD mean | KLD p99 | top-1 agree
gpt = {r["format"]: r for r in last("gpt.json")["rows"]}
seen = 0
for cells in table_after("`lab gpt sweep` (8,192 held-out characters"):
    r = gpt.get(cells[0])
    if r is None:
        continue
    seen += 1
    near(cells[1], r["bits_per_weight"], f"gpt {cells[0]} bits/weight")
    near(cells[2], r["ppl"], f"gpt {cells[0]} ppl")
    near(cells[3], r["kld"], f"gpt {cells[0]} KLD")
    near(cells[4], r["kld_p99"], f"gpt {cells[0]} KLD p99")
    near(cells[5], r["top1_agree"], f"gpt {cells[0]} top-1", 100)
if seen != len(gptfmts):
    bad.append(f"gpt sweep table: {seen} of {len(gptfmts)} formats found in README")

# MX and NVFP4 on the bundled tensor: format | bits/weight | SQNR dB | clipped
mx = {r["scheme"].split("/")[0]: r for r in last("mx.json")["rows"]}
seen = 0
for cells in table_after("SQNR of the bundled 64 × 64 tensor"):
    r = mx.get(cells[0])
    if r is None:
        continue
    seen += 1
    near(cells[1], r["bits_per_param"], f"mx {cells[0]} bits/weight")
    near(cells[2], r["sqnr_db"], f"mx {cells[0]} SQNR")
    near(cells[3], r["clip_frac"], f"mx {cells[0]} clipped", 100)
if seen != 7:
    bad.append(f"MX table: {seen} of 7 formats found in README")

# "On the bundled tensor at int4 (per row): output SQNR rtn 19.11, gptq 19.67, ..."
meth = {r["method"]: r for r in last("methods.json")["rows"]}
s = re.sub(r"\s+", " ", readme)
m = re.search(r"On the bundled tensor at int4 \(per row\): output SQNR (.*?) dB; (.*?) dB;", s)
if not m:
    bad.append("methods sentence not found")
else:
    for part in (m.group(1) + ", " + m.group(2)).split(","):
        name, val = part.split()
        near(val, meth[name]["out_sqnr_db"], f"methods {name} output SQNR")
if bad:
    sys.exit("\n".join(bad))
PY
echo "readme_figures: ok"
