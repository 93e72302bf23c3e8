#!/usr/bin/env bash
# repl_pipe.sh — `qscope repl` without a terminal: lines read one by one (same output as a
# script), errors reported with -:LINE (as `qscope -` reports them) and counted in the exit
# status, the session kept across errors, ';' not a separator (as in a script) and the error
# saying so, `qscope repl FILE`, source (FILE:LINE errors, nesting limit), save + replay.
set -u
QSCOPE=${QSCOPE:-build/qscope}
cd "${QSCOPE_TOP:-.}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# 1. The issue's example: two stats results, one error naming bogus, exit 2.
printf 'synth normal n=1000 seed=2\nstats\nbogus\nstats\n' | "$QSCOPE" repl >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "pipe with an error: exit $rc, want 2"
n=$(grep -c '^absmax' "$tmp/out")
[ "$n" -eq 2 ] || fail "pipe: $n stats results, want 2"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "pipe: want exactly one error line, got: $(cat "$tmp/err")"
grep -q -- "^qscope: -:3: unknown command 'bogus'" "$tmp/err" || fail "pipe: error should name -:3 and bogus: $(cat "$tmp/err")"
# the same label as `qscope -` gives the same line
printf 'synth normal n=1000 seed=2\nstats\nbogus\nstats\n' | "$QSCOPE" - >/dev/null 2>"$tmp/err_script"
cmp -s "$tmp/err" "$tmp/err_script" || fail "pipe errors differ from 'qscope -': $(cat "$tmp/err") vs $(cat "$tmp/err_script")"

# 2. Same output as running the lines as a script.
printf 'synth normal n=1000 seed=2\nstats\nbogus\nstats\n' >"$tmp/s.qs"
"$QSCOPE" "$tmp/s.qs" >"$tmp/script_out" 2>/dev/null
cmp -s "$tmp/out" "$tmp/script_out" || fail "pipe output differs from 'qscope script.qs'"

# 3. Success exits 0; a failed command keeps the tensor; quit stops reading.
printf 'values 0 250 1000\nhist bins=oops\nstats\nquit\nbogus\n' | "$QSCOPE" repl >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "bad argument: exit $rc, want 2"
grep -q 'bins' "$tmp/err" || fail "bad argument error should name 'bins': $(cat "$tmp/err")"
grep -Eq '^max +1000$' "$tmp/out" || fail "the tensor survived the error: $(cat "$tmp/out")"
grep -q bogus "$tmp/err" && fail "lines after quit must not run"
printf 'values 1 2\nstats\n' | "$QSCOPE" repl >/dev/null 2>&1 || fail "clean pipe should exit 0"

# 4. `qscope repl FILE` loads FILE first.
echo tensors | "$QSCOPE" repl tests/fixtures/mlp.safetensors >"$tmp/out" 2>"$tmp/err" \
    || fail "repl FILE: exit $? ($(cat "$tmp/err"))"
grep -q 'fc2.weight' "$tmp/out" || fail "repl FILE: tensors should list fc2.weight"
echo stats | "$QSCOPE" repl "$tmp/no such file.npy" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "repl with a missing FILE should exit 2"
grep -q 'no such file.npy' "$tmp/err" || fail "missing FILE named in the error: $(cat "$tmp/err")"

# 5. source: errors as FILE:LINE, nesting limited, the session goes on.
printf 'values 5 6 7\n\nbogus\n' >"$tmp/inner.qs"
printf 'source %s\nstats\n' "$tmp/inner.qs" | "$QSCOPE" repl >"$tmp/out" 2>"$tmp/err"
grep -q "inner.qs:3: unknown command 'bogus'" "$tmp/err" || fail "source error as FILE:LINE: $(cat "$tmp/err")"
grep -Eq '^max +7$' "$tmp/out" || fail "commands of the sourced file ran"
printf 'source %s\n' "$tmp/self.qs" >"$tmp/self.qs"
echo "source $tmp/self.qs" | timeout 20 "$QSCOPE" repl >/dev/null 2>"$tmp/err"
grep -q 'nested too deeply' "$tmp/err" || fail "self-sourcing script should hit the nesting limit"

# 6. save writes the successful commands; replaying gives the same numbers.
printf 'synth laplace n=500 seed=4\nbogus\nstats\nsave %s\n' "$tmp/saved.qs" \
    | "$QSCOPE" repl >"$tmp/out1" 2>/dev/null
[ -f "$tmp/saved.qs" ] || fail "save wrote no file"
grep -q bogus "$tmp/saved.qs" && fail "save must leave failed commands out"
"$QSCOPE" "$tmp/saved.qs" >"$tmp/out2" 2>"$tmp/err" || fail "replaying the saved script failed: $(cat "$tmp/err")"
grep '^absmax' "$tmp/out1" >"$tmp/a1"
grep '^absmax' "$tmp/out2" >"$tmp/a2"
[ -s "$tmp/a1" ] && cmp -s "$tmp/a1" "$tmp/a2" || fail "replayed script gives different stats"

# 7. set json on: one JSON object per line, in the pipe too.
printf 'set json on\nvalues 1 2 3\n' | "$QSCOPE" repl >"$tmp/out" 2>&1
tail -1 "$tmp/out" | grep -q '^{.*"n": *3' || fail "set json on: $(cat "$tmp/out")"

# 8. A NUL byte in a line is an error, not a crash.
printf 'values 1\nst\0ats\nstats\n' | "$QSCOPE" repl >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "NUL line: exit 2"
grep -q -- '^qscope: -:2: ' "$tmp/err" || fail "NUL line named -:2: $(cat "$tmp/err")"

# 9. A script that cannot be sourced names the line that sourced it, and the session goes on.
printf 'values 1 2\nsource /nonexistent/x.qs\nstats extra\nstats\n' | "$QSCOPE" repl >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "source error: exit 2"
grep -q '^qscope: -:2: source: /nonexistent/x.qs: No such file' "$tmp/err" ||
    fail "source error names -:2: $(cat "$tmp/err")"
grep -q "^qscope: -:3: stats: unexpected argument 'extra'" "$tmp/err" ||
    fail "stats extra names the argument: $(cat "$tmp/err")"
grep -q '^n  *2$' "$tmp/out" || fail "stats after the errors: $(cat "$tmp/out")"

# 10. ';' does not separate commands in a script or a pipe (only in -c and at the prompt): the
# failing line says so; a line that fails for another reason, or a quoted ';', does not.
printf 'values 1 2; stats\nvalues 5 6\nstats extra\nload "no;such.npy"\nstats\n' |
    "$QSCOPE" repl >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "';' line: exit 2"
grep -q "^qscope: -:1: values: '2;' is not a number (';' does not separate commands in a script: one command per line)" "$tmp/err" ||
    fail "';' line: the error should explain ';': $(cat "$tmp/err")"
# the same in a script file and qscope -
printf 'values 1 2; stats\n' > "$tmp/semi.qs"
"$QSCOPE" "$tmp/semi.qs" 2>&1 >/dev/null | grep -q "does not separate commands in a script" ||
    fail "a .qs script should explain ';'"
printf 'values 1 2; stats\n' | "$QSCOPE" - 2>&1 >/dev/null | grep -q "does not separate commands" ||
    fail "qscope - should explain ';'"
[ "$(grep -c "does not separate" "$tmp/err")" -eq 1 ] ||
    fail "only the line split by ';' gets the note: $(cat "$tmp/err")"
grep -Eq '^max +6$' "$tmp/out" || fail "the lines after the ';' line ran: $(cat "$tmp/out")"

# 11. a backslash at the end of a line continues the command on the next, in a script file,
# qscope -, piped input and -c alike; errors name the command's first line
printf 'values 1 2 \\\n 3 \\\n 4\nstats\nbogus\n' > "$tmp/cont.qs"
for how in file dash pipe; do
    case $how in
    file) "$QSCOPE" "$tmp/cont.qs" >"$tmp/out" 2>"$tmp/err" ;;
    dash) "$QSCOPE" - <"$tmp/cont.qs" >"$tmp/out" 2>"$tmp/err" ;;
    pipe) "$QSCOPE" repl <"$tmp/cont.qs" >"$tmp/out" 2>"$tmp/err" ;;
    esac
    grep -Eq '^n +4$' "$tmp/out" || fail "$how: the continued command should make 4 values: $(cat "$tmp/out" "$tmp/err")"
    grep -q ":5: unknown command 'bogus'" "$tmp/err" || fail "$how: line numbers after a continued command: $(cat "$tmp/err")"
done
"$QSCOPE" -c 'values 1 2 \
3; stats' | grep -Eq '^n +3$' || fail "-c: backslash-newline should continue the command"

[ "$fails" -eq 0 ] && echo "repl_pipe: all checks passed"
[ "$fails" -eq 0 ]
