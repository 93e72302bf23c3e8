#!/usr/bin/env bash
# review_cli.sh — regressions found by reviewing the command line as a new user: each check
# names the command that went wrong and what it must give instead.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -q -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }

# hist's default range is the finite min and max, as stats reports them: an Inf in the tensor
# must not shift the range (it gave [0.5, 1.5] and counted 2 as "over")
out=$("$QSCOPE" -c "values inf 1 2 -inf nan; hist bins=4" --json) || fail "hist with Inf exit $?"
has "$out" '"lo":1.0,"hi":2.0,"counts":\[1,0,0,1\]'
has "$out" '"under":1,"over":1,"nan":1'
out=$("$QSCOPE" -c "values nan inf; hist bins=2" --json) || fail "hist without finite values exit $?"
has "$out" '"lo":0.0,"hi":1.0'

# 'help CMD' fits 80 columns below the usage line: an option whose name column is wider than
# half the line (lab's "lab train [data=...] ...") wraps with a hanging indent instead of
# running to 155 columns, and the closing prose is not broken after every line
names=$("$QSCOPE" --json -c help | /usr/bin/env python3 -c \
    'import sys, json; print(" ".join(c["name"] for c in json.load(sys.stdin)["commands"]))')
[ -n "$names" ] || fail "no command names from help --json"
for c in $names; do
    wide=$("$QSCOPE" -c "help $c" | tail -n +2 | LC_ALL=C.UTF-8 awk 'length($0) > 80')
    [ -z "$wide" ] || fail "help $c: lines wider than 80 columns: $wide"
done
out=$("$QSCOPE" -c "help lab")
grep -qx '    activations:' <<<"$out" && fail "help lab: prose broken after 'activations:': $out"
has "$out" '^  lab train \[data=digits|fashion\]'

# --help names what the program accepts: the tui subcommand, play --auto, '-' for a script on
# standard input and the file formats 'load' reads (it listed .npy, .safetensors, .csv only)
out=$("$QSCOPE" --help) || fail "--help exit $?"
for k in 'qscope tui \[FILE\]' 'play \[--headless \[--strict\]\] \[--allow-files\] \[--auto\[=SECONDS\]\]' '- reads the script' \
         '\.gguf' 'PyTorch'; do has "$out" "$k"; done
wide=$(LC_ALL=C.UTF-8 awk 'length($0) > 80' <<<"$out")
[ -z "$wide" ] || fail "--help: lines wider than 80 columns: $wide"

exit 0
