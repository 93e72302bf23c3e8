#!/usr/bin/env bash
# lessons_new.sh — lessons 14 to 22 play to their end on the TUI's Lesson screen: opened by
# number at the L prompt, stepped with Enter, every quiz answered with the lesson's first
# answer at the answer prompt, which opens by itself (after a step run in the background
# too); no step reports a failed command or expectation, and the last step's quiz question
# (or its heading, when it has no quiz) is on the screen at the end.
. "$(dirname "$0")/lib.bash"
# Under the sanitizers (make asan) lessons 20-22, which run the GPT lab (minutes there), are
# left to tests/run.sh's sanitized play of every lesson; the TUI's lesson path is the same.
nums=(14 15 16 17 18 19 20 21 22)
[ -n "${QSCOPE_SANITIZED:-}" ] && nums=(14 15 16 17 18 19)
for num in "${nums[@]}"; do
    file=$(ls "$QSCOPE_TOP"/lessons/"$num"-*.lesson) || fail "no lesson $num"
    # per step: the first answer of its quiz (or '-'), and the last quiz's question
    mapfile -t answers < <(awk '/^---+[ \t]*$/ { print a; a = "-"; next }
                                NR == 1 { a = "-" }
                                /^answer:/ && a == "-" { s = $0; sub(/^answer:[ \t]*/, "", s);
                                                         sub(/[ \t]*\|.*/, "", s); a = s }
                                END { print a }' "$file")
    lastq=$(grep '^quiz:' "$file" | tail -1 | sed 's/^quiz:[ \t]*//' | cut -c1-40)
    # a last step without a quiz: its heading is what the screen ends on
    [ "${answers[-1]}" = "-" ] && lastq=$(grep '^## ' "$file" | tail -1 | sed 's/^## //' | cut -c1-40)
    nsteps=${#answers[@]}
    tui_start 160 50 LC_ALL=C.UTF-8
    wait_for "1 Data"
    keys 6
    wait_for "L opens"
    keys L
    wait_for "lesson (name or number)"
    type_text "$num"
    keys Enter
    wait_for "Enter starts step 1"    # nothing runs before the learner starts it
    keys n
    for ((k = 1; k <= nsteps; k++)); do
        wait_for "step $k/$nsteps" 120   # a step that trains (lesson 22) takes seconds
        a=${answers[$((k - 1))]}
        if [ "$a" != "-" ]; then
            wait_for "answers)"         # "(a answers)" after the question, maybe wrapped
            # the answer prompt opens by itself at a quiz (its line at the bottom), also
            # after a step run in the background (a slow command such as compare)
            end=$((SECONDS + TUI_DEADLINE))
            until screen_text | tail -2 | grep -q '^answer:'; do
                [ $SECONDS -le $end ] || fail "lesson $num step $k: the answer prompt did not open"
                sleep 0.05
            done
            type_text "$a"
            keys Enter
            wait_for "right!"
        fi
        screen_text | grep -qiE 'expect .* failed|command failed' && fail "lesson $num step $k failed"
        [ $k -lt "$nsteps" ] && keys Enter
    done
    wait_for "$lastq"
    keys q
    wait_for "EXITED rc=0"
    tui_stop
done
echo "lessons_new: ok"
