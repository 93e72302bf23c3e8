#!/usr/bin/env bash
# sec_complete.sh — the REPL's Tab completion list shows candidates that came from a file
# (tensor names, file names) escaped: a name holding ESC [2J or a C1 CSI (U+009B) is listed
# as \x1b[2J / \u009b and those bytes never reach the terminal (a single such match is
# inserted only up to its first control character); ordinary names still complete and list
# as before. Driven through a pseudo-terminal (tmux, private socket) whose raw output
# is recorded with pipe-pane.
. "$(dirname "$0")/tty.bash"
PROMPT='qscope \[.*\] >'
mkdir "$tmp/d" && cp "$TOP/datasets/default.npy" "$tmp/d/apple.npy" &&
    cp "$TOP/datasets/default.npy" "$tmp/d/apricot.npy" &&
    cp "$TOP/datasets/default.npy" "$tmp/d/$(printf 'ap\302\2332Jx').npy" || exit 1
T new-session -d -s qs -x 120 -y 40 -c "$TOP" \
    "env NO_COLOR=1 LC_ALL=C.UTF-8 QSCOPE_HISTFILE=$tmp/history $QSCOPE repl; exec sleep 100000" ||
    { echo "FAIL: cannot start tmux"; exit 1; }
wait_last "$PROMPT\$" || fail "no prompt"
T send-keys -t qs "load tests/fixtures/sec/esc_names.safetensors" Enter
wait_last "^qscope \[[^-].*\] >\$" || fail "the hostile file should load"
T pipe-pane -t qs -o "cat >>$tmp/raw"

# the list of tensor names: escaped on screen, no raw ESC [2J or C1 byte sent
T send-keys -t qs "use " Tab Tab
wait_for_text 'c1\u009b31mx' || fail "the C1 name should be listed as c1\\u009b31mx"
# (the prompt shows the current tensor's name escaped: look at the list's own line)
line=$(screen | grep -F 'c1\u009b31mx')
grep -Fq 'clear\x1b[2J\x1b[Hname' <<<"$line" || fail "the ESC name should be listed as clear\\x1b[2J\\x1b[Hname"
grep -Fq 'row\nfake.weight' <<<"$line" || fail "the newline name should be listed as row\\nfake.weight"
T send-keys -t qs C-u
# a single hostile match is not inserted raw into the line: the insertion stops before the
# control character (C1 CSI here), and the next Tabs list it escaped
T send-keys -t qs C-l "use c1" Tab Tab
end=$((SECONDS + WAIT))
until screen | grep -Eq '^c1\\u009b31mx *$'; do
    [ $SECONDS -le $end ] || { fail "a single hostile match should be listed escaped"; break; }
    sleep 0.1
done
screen | grep -q "> use c1\$" || fail "the line should keep 'use c1' (the name cut before U+009B)"
T send-keys -t qs C-u
# file names from a folder: an ordinary prefix still completes, a hostile name lists escaped
T send-keys -t qs C-l "load $tmp/d/apr" Tab
wait_last "$PROMPT load $tmp/d/apricot.npy\$" || fail "an ordinary file name should still complete"
T send-keys -t qs C-u "load $tmp/d/ap" Tab Tab
wait_for_text 'ap\u009b2Jx.npy' || fail "the hostile file name should be listed escaped"
screen | grep -q 'apple.npy' || fail "the ordinary names should be listed beside it"
T send-keys -t qs C-u
T pipe-pane -t qs
sleep 0.2   # let cat flush what it already read (the checks below are on its file)
if LC_ALL=C grep -qP '\xc2[\x80-\x9f]|\x1b\[2J\x1b\[Hname' "$tmp/raw" 2>/dev/null; then
    fail "raw control sequences from names reached the terminal: $(LC_ALL=C grep -aoP '.{0,8}(\xc2[\x80-\x9f]|\x1b\[2J\x1b\[Hname).{0,8}' "$tmp/raw" | od -c | head -5)"
fi
[ -s "$tmp/raw" ] || fail "pipe-pane recorded nothing"

# an ordinary list is readline's own (no escaping needed)
T send-keys -t qs C-l "load datasets/gpt-" Tab Tab
wait_for_text 'gpt-kjv.safetensors' || fail "ordinary file names should still be listed"
T send-keys -t qs C-u

[ "$fails" -eq 0 ] || exit 1
echo ok
