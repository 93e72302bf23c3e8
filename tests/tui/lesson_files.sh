#!/usr/bin/env bash
# lesson_files.sh — a lesson that names a file with `lab load` (which reads) is refused as the
# sandbox says, in words that are true: 'lab load' names a file and 'lab' can write files, not
# "'lab' writes files"; `export` still "writes files". The TUI shows the refusal when the
# lesson is opened, as `lesson check` does.
. "$(dirname "$0")/lib.bash"
printf 'title: Lab load\n\n## h\n\nText.\n\n> lab load x.bin\n' > "$TUI_TMP/labload.lesson"
printf 'title: Export\n\n## h\n\nText.\n\n> values 1 2\n> export x.npy\n' > "$TUI_TMP/export.lesson"
msg=$("$QSCOPE" lesson check "$TUI_TMP/labload.lesson" 2>&1) && fail "lesson check passed: $msg"
grep -qF "labload.lesson:7: 'lab load' names a file (x.bin) and 'lab' can write files" <<<"$msg" ||
    fail "lesson check on lab load: $msg"
grep -qF "writes files" <<<"$msg" && fail "lab load reported as writing: $msg"
msg=$("$QSCOPE" lesson check "$TUI_TMP/export.lesson" 2>&1) && fail "lesson check passed: $msg"
grep -qF "export.lesson:8: 'export' writes files (x.npy)" <<<"$msg" ||
    fail "lesson check on export: $msg"
tui_start 200 30 LC_ALL=C.UTF-8
wait_for "1 Data"
keys 6
wait_for "L opens"
keys L
type_text "$TUI_TMP/labload.lesson"
keys Enter
wait_for "labload.lesson:7: 'lab load' names a file (x.bin) and 'lab' can write files"
screen_text | grep -qF "writes files" && fail "the TUI reports lab load as writing"
keys q
wait_for "EXITED rc=0"
check_tty_restored
echo "lesson_files: ok"
