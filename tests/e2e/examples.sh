#!/usr/bin/env bash
# examples.sh — every command's `help CMD` example runs as printed: in a fresh directory that
# has the repository's datasets/ and lessons/ (as a user's checkout), after the shipped tensor
# is loaded (what `make run` and the TUI start on); `source session.qs` reads the script
# `save session.qs` (save's example) writes. Also: `help` lists every command, and
# every example's first word is its own command.
set -u
fail() { echo "FAIL: $*"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ln -s "$QSCOPE_TOP/datasets" "$dir/datasets"
ln -s "$QSCOPE_TOP/lessons" "$dir/lessons"
cd "$dir" || exit 1

names=$("$QSCOPE" -c help --json | grep -o '"name":"[^"]*"' | sed 's/"name":"\(.*\)"/\1/')
[ "$(wc -l <<<"$names")" -ge 20 ] || fail "help lists too few commands: $names"
n=0
for name in $names; do
    ex=$("$QSCOPE" -c "help $name" --json | sed -n 's/.*"example":"\([^"]*\)".*/\1/p')
    [ -n "$ex" ] || fail "help $name: no example"
    [ "${ex%% *}" = "$name" ] || fail "help $name: the example '$ex' is another command's"
    if [ "$name" = source ]; then
        "$QSCOPE" -c "load datasets/default.npy; save session.qs" >/dev/null ||
            fail "save session.qs failed"
    fi
    [ "$name" = save ] && rm -f session.qs     # save never replaces a file without --force
    out=$("$QSCOPE" -c "load datasets/default.npy; $ex" 2>&1); rc=$?
    [ $rc -eq 0 ] || fail "help $name: the example '$ex' fails (exit $rc): $out"
    n=$((n + 1))
done
echo "examples: ok ($n commands)"
