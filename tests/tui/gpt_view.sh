#!/usr/bin/env bash
# gpt_view.sh — the Lab screen's GPT view scrolls and shows the activation channel strip:
# at 80x24, `a` runs `lab gpt acts` and draws a row per linear layer (its max/median ratio as
# the command computes it, a bar per input channel, its top channels named); the last layer is
# below the window until PgDn, and PgUp comes back; `W`'s generations, stacked at 80 columns,
# reach their last format (q4_k) only by PgDn. At 120x40 the whole strip fits, with 4 channels
# per cell for the 256-wide MLP projections. Skipped (ok) when the shipped model is absent.
. "$(dirname "$0")/lib.bash"
[ -f "$QSCOPE_TOP/datasets/gpt-kjv.safetensors" ] || { echo "gpt_view: ok (no shipped model)"; exit 0; }
# the engine's own numbers, from the command line: layer h.2.mlp.c_proj's ratio and top channel
read -r ratio topch < <("$QSCOPE" --json -c "lab gpt acts" | python3 -c '
import json, sys
for l in json.load(sys.stdin)["layers"]:
    if l["layer"] == "h.2.mlp.c_proj":
        print("%.2f" % l["max_median_ratio"], l["top_channels"][0]["channel"])')
[ -n "$topch" ] || fail "lab gpt acts gave no h.2.mlp.c_proj"

tui_start 80 24 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 5
wait_for "r runs:"
keys a
wait_for "max/med" 120
wait_for "h.0.attn.c_attn"
screen_text | grep -qF "lm_head" && fail "80x24: the whole strip fits; nothing to scroll"
deadline=$((SECONDS + TUI_DEADLINE))
until screen_text | grep -qF "lm_head"; do
    [ $SECONDS -le $deadline ] || fail "PgDn never reached lm_head"
    keys NPage
    sleep 0.1
done
row=$(screen_text | grep -F "h.2.mlp.c_proj") || fail "no h.2.mlp.c_proj row after PgDn"
echo "$row" | grep -qF "${ratio}×" || fail "row lacks the ratio $ratio: $row"
echo "$row" | grep -qE "[▁▂▃▄▅▆▇█]{16}" || fail "row lacks a channel strip: $row"
echo "$row" | grep -qE " $topch( |$)" || fail "row does not name top channel $topch: $row"
keys PPage PPage
wait_for "h.0.attn.c_attn"
keys W
wait_for "prompt: And God said," 120
wait_for "int8-channel"
screen_text | grep -qE "^  q4_k" && fail "80x24: every generation fits; nothing to scroll"
deadline=$((SECONDS + TUI_DEADLINE))
until screen_text | grep -qE "^  q4_k"; do
    [ $SECONDS -le $deadline ] || fail "PgDn never reached the q4_k generation"
    keys NPage
    sleep 0.1
done
keys q
wait_for "EXITED rc=0"
tui_stop

tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 5
wait_for "r runs:"
keys a
wait_for "max/med" 120
wait_for "lm_head"
screen_text | grep -E "h.0.mlp.c_proj +256 +4 " | grep -qE "[▁▂▃▄▅▆▇█]{64}" ||
    fail "120x40: h.0.mlp.c_proj is not 64 cells of 4 channels"
keys q
wait_for "EXITED rc=0"
tui_stop
echo "gpt_view: ok"
