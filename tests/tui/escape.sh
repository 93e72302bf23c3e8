#!/usr/bin/env bash
# escape.sh — text from a file or a lesson is drawn as qs_escape spells it, as the REPL
# prints it: a tensor name with ESC, a newline, BEL and a C1 control shows as
# \x1b[31mred\x1b[0m\nfake line in the Data header, the tensor list (its columns counted on
# the escaped text), the status bar and the tab bar, and never starts a line of its own; a
# lesson's title (lesson list and step line) and narration likewise, with the list's level
# column where it belongs. Legitimate UTF-8 ('·', '▶', '│') is drawn unchanged. A tensor of one
# value says "1 value", not "1 values".
. "$(dirname "$0")/lib.bash"
# a safetensors file: 8-byte little-endian header length, JSON, data; the names are JSON
# escapes, so the loaded names hold the raw control characters
h='{"\u001b[31mred\u001b[0m\nfake line":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"bell\u0007\u009b2J":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"one":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}'
n=${#h}
{
    printf "$(printf '\\x%02x\\x%02x' $((n & 255)) $((n >> 8)))\\x00\\x00\\x00\\x00\\x00\\x00"
    printf '%s' "$h"
    printf '\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40'
} > "$TUI_TMP/esc.safetensors"
red='\x1b[31mred\x1b[0m\nfake line'

# no line of the screen may start with the text after the newline, and no raw control
# character may reach the pane (tmux shows what the terminal got)
no_raw() {
    local s
    s=$(screen_text)
    grep -q '^fake line' <<<"$s" && fail "the name's newline started a line of its own"
    grep -qF '^[' <<<"$s" && fail "ESC drawn as ncurses' ^[ instead of \\x1b"
    LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$s" && fail "a control character reached the pane"
    return 0
}

TUI_ARGS="$TUI_TMP/esc.safetensors" tui_start 120 40 LC_ALL=C.UTF-8
wait_for "1 Data"
wait_for " $red  F32 [2] · 2 values · "                 # the header
wait_for "▶ $red F32     2     2 values"                # the list: columns after the name
wait_for "  bell\\x07\\u009b2J              F32     2     2 values"
wait_for "$red [2] · int8 asym/tensor · minmax"           # the status bar keeps its right end
wait_for "qscope · $red"                                   # the tab bar
no_raw
keys t t                                                   # the one-value tensor
wait_for "one  F32 [1] · 1 value · "
wait_for "▶ one "
screen_text | grep -qF "1 value · " || fail "no singular header"
screen_text | grep -qF "1 values" && fail "'1 values' on the screen"
keys q
wait_for "EXITED rc=0"
check_tty_restored
tui_stop

# a lesson whose title and narration hold ESC, OSC, BEL and a C1 control
mkdir -p "$TUI_TMP/les"
printf 'title: Evil \x1b[2J\x1b]0;pwn\x07 lesson\nlevel: beginner\n\n## h\n\nNarr \x1b[2J \x07 \xc2\x9b C1.\n\n> values 1 2 3\n' \
    > "$TUI_TMP/les/90-evil.lesson"
tui_start 120 40 LC_ALL=C.UTF-8 "QSCOPE_LESSON_PATH=$TUI_TMP/les"
wait_for "1 Data"
keys 6
wait_for "L opens"
# the list: the escaped title, then the level in its own column (titles are padded to one
# width, so "lesson" is followed by spaces before "beginner")
screen_text | grep -qE '90-evil +Evil \\x1b\[2J\\x1b\]0;pwn\\x07 lesson +beginner' ||
    fail "the lesson list's title is not escaped or runs into the level column"
no_raw
keys L
type_text "$TUI_TMP/les/90-evil.lesson"
keys Enter
wait_for 'step 0/1 · Evil \x1b[2J\x1b]0;pwn\x0…'     # the step line (cut at its width: …)
keys n
wait_for 'Narr \x1b[2J \x07 \u009b C1.'
wait_for "│ values"                                          # the live pane's border
no_raw
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "escape: ok"
