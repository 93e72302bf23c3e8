#!/usr/bin/env bash
# derive_methods.sh — the Derive screen steps through GPTQ's and SmoothQuant's traces (issue
# 17): m cycles scheme → GPTQ → SmoothQuant → scheme, ] jumps to GPTQ's next traced column,
# ←/→ step, ] follows SmoothQuant's next channel, a typed :smoothquant routes its steps there;
# the header says what the trace is of and that the activations are synthetic. The numbers
# waited for are the CLI's own results for the same commands (not written here), at 80x24 and
# 120x40.
. "$(dirname "$0")/lib.bash"
npy="$QSCOPE_TOP/datasets/default.npy"

# pieces of a command's result on the bundled matrix: KEY=value lines for the shell
facts() {
    "$QSCOPE" --json -c "load \"$npy\"; $1" | tail -1 | python3 -c '
import json, shlex, sys
r = json.loads(sys.stdin.read())
steps = r.get("steps", [])
print("N=%d" % len(steps))
print("IN=%d" % r["matrix"][1])
print("CH=%d" % r.get("channel", -1))
for i, s in enumerate(steps):
    t = s["title"].replace(" ", "_")
    if t in ("column_0", "update_after_column_0", "smoothing_factor", "activation_max"):
        print("%s_IDX=%d" % (t, i + 1))
        print("%s_SUB=%s" % (t, shlex.quote(s["substituted"])))
        print("%s_RES=%s" % (t, shlex.quote(s["result"].split("; ")[0])))
'
}
eval "$(facts "gptq trace=2" | sed 's/^/G_/')"
eval "$(facts "smoothquant" | sed 's/^/S_/')"
[ -n "${G_column_0_SUB:-}" ] && [ -n "${S_smoothing_factor_SUB:-}" ] ||
    fail "the CLI's gptq / smoothquant results lack the steps this test follows"
next=$(( (S_CH + 1) % S_IN ))
eval "$(facts "smoothquant channel=$next" | sed 's/^/T_/')"
eval "$(facts "smoothquant alpha=0.8 channel=2" | sed 's/^/U_/')"

for size in "80 24" "120 40"; do
    # shellcheck disable=SC2086
    TUI_ARGS="$npy" tui_start $size LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys 2
    wait_for "1/12. observed range"
    # m: GPTQ on the tensor as W (runs gptq trace=2)
    keys m
    wait_for "GPTQ on W [64 × 64] · synthetic activations · set-up, then 2 columns"
    wait_for "not a model's activations"
    wait_for "1/$G_N. Hessian"
    # ]: the first traced column, its numbers as the CLI computed them
    keys ']'
    wait_for "traced column 1 of 2"
    wait_for "$G_column_0_IDX/$G_N. column 0"
    wait_for "= $G_column_0_SUB"
    wait_for "$G_column_0_RES"
    # →: the update of the later columns; ←: back
    keys Right
    wait_for "$G_update_after_column_0_IDX/$G_N. update after column 0"
    wait_for "= $G_update_after_column_0_SUB"
    wait_for "→ $G_update_after_column_0_RES"
    keys Left
    wait_for "$G_column_0_IDX/$G_N. column 0"
    # m: SmoothQuant, stepped to the smoothing factor
    keys m
    wait_for "SmoothQuant on W [64 × 64] · synthetic activations · α 0.5 · channel $S_CH"
    wait_for "channel $S_CH is a planted outlier"
    keys n n
    wait_for "$S_smoothing_factor_IDX/$S_N. smoothing factor"
    wait_for "= $S_smoothing_factor_SUB"
    wait_for "→ $S_smoothing_factor_RES"
    # ]: the next channel (smoothquant channel=J+1 runs), at the same step
    keys ']'
    wait_for "α 0.5 · channel $next"
    wait_for "$T_smoothing_factor_IDX/$T_N. smoothing factor"
    wait_for "= $T_smoothing_factor_SUB"
    wait_for "→ $T_smoothing_factor_RES"
    # m: the scheme's derivation again, its parameters line back
    keys m
    wait_gone "SmoothQuant on W"
    wait_for "1/12. observed range"
    wait_for "zero point"
    # a typed command routes its steps to the screen
    keys :
    type_text "smoothquant alpha=0.8 channel=2"
    keys Enter
    wait_for "α 0.8 · channel 2"
    keys n n
    wait_for "= $U_smoothing_factor_SUB"
    keys q
    wait_for "EXITED rc=0"
    check_tty_restored
    tui_stop
done
echo "derive_methods: ok"
