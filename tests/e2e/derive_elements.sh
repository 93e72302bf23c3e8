#!/usr/bin/env bash
# derive_elements.sh — `derive index=E` follows element E as `codes` quantizes it, also under
# stochastic rounding, where each element draws its own random number: derive used element
# 0's number for every E (codes gave [.., 2, 2, 1, ..] where derive said 2 for all), so the
# code and x̂ it printed for E > 0 were not the ones the tensor got. Per-channel too.
set -u
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
vals="-1 0.013 0.013 0.013 0.013 0.013 0.013 0.013 0.013 1 0.0131 -0.0129"
for sch in "int8 sym round=stochastic seed=1" "int4 asym round=stochastic seed=7" \
           "uint8 asym round=stochastic seed=3 per-channel axis=0" "int8 sym"; do
    shape=""
    case $sch in *per-channel*) shape="reshape 3x4;" ;; esac
    cmds="values $vals; $shape scheme $sch; codes"
    for e in 0 1 2 3 4 5 6 7 8 9 10 11; do cmds+="; derive index=$e"; done
    "$QSCOPE" --json -c "$cmds" > "$tmp" 2>&1 || fail "$sch: exit $?: $(cat "$tmp")"
    python3 - "$tmp" "$sch" <<'PY' || exit 1
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
codes = next(o for o in objs if "codes" in o and "dequant" in o)
derives = [o for o in objs if "steps" in o][-12:]
bad = []
for e, d in enumerate(derives):
    q = [s["value"] for s in d["steps"] if s["title"] == "clamp"]
    xh = [s["value"] for s in d["steps"] if s["title"] == "dequantize"]
    if not q or q[-1] != codes["codes"][e] or abs(xh[-1] - codes["dequant"][e]) > 1e-7:
        bad.append(f"element {e}: derive gives code {q[-1] if q else None}, x̂ "
                   f"{xh[-1] if xh else None}; codes {codes['codes'][e]}, {codes['dequant'][e]}")
if bad:
    sys.exit(f"FAIL: {sys.argv[2]}: " + "; ".join(bad))
PY
done
echo "derive_elements: ok"
