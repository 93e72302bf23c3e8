#!/usr/bin/env bash
# man.sh — both man pages render with groff and mandoc without a warning; every command of the
# command table, and every row of its nested tables at any depth (lab ptq, lab gpt ptq), is
# documented in man/qscope.1 with its current usage and option lines (and nothing else is);
# every key binding of the TUI's table appears in the TUI KEYS section.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }

for page in man/qscope.1 man/qscope-lesson.5; do
    [ -s "$page" ] || fail "$page missing"
    out=$(groff -man -ww -z "$page" 2>&1); rc=$?
    [ $rc -eq 0 ] && [ -z "$out" ] || fail "groff warns on $page: $out"
    if command -v mandoc >/dev/null; then
        out=$(mandoc -Tlint "$page" 2>&1); rc=$?
        [ $rc -eq 0 ] && [ -z "$out" ] || fail "mandoc -Tlint warns on $page: $out"
    fi
done

# the page's text with roff escapes undone, for comparisons
unroff() { sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\e/\\/g' -e 's/""/"/g' "$1"; }
page=$(unroff man/qscope.1)
section=$(sed -n '/^\.\\" commands-begin/,/^\.\\" commands-end/p' man/qscope.1 | unroff /dev/stdin |
          perl -CS -pe 's/\\\[u([0-9A-F]{4})\]/chr(hex($1))/ge')

json=$("$QSCOPE" -c help --json) || fail "help --json exit $?"
names=$(grep -o '"name":"[^"]*"' <<<"$json" | sed 's/"name":"\(.*\)"/\1/')
[ -n "$names" ] || fail "no command names in: $json"
n=0
# checks the entry of command words $1 (a command, or a row of a nested table: "lab gpt ptq"),
# then those of its subcommands
secfile=$(mktemp)
trap 'rm -f "$secfile"' EXIT
printf '%s\n' "$section" > "$secfile"
check_entry() {
    local path=$1 out sub
    # one perl pass: the usage line, every option line `help` prints (table-driven lines
    # included: calibrators, ...), then the names of the row's subcommands
    out=$("$QSCOPE" -c "help $path" --json | perl -MJSON::PP -CO -e '
        my $f = shift; open my $s, "<:utf8", $f or die; local $/; my $sec = <$s>;
        my $j = JSON::PP->new->utf8->decode(<STDIN>);
        index($sec, ".B \"$j->{usage}\"") >= 0 or print "MISSING usage $j->{usage}\n";
        for (split /\n/, ($j->{options} // "")) {
            next unless /\S/;
            index($sec, $_) >= 0 or print "MISSING option $_\n";
        }
        print "SUB $_\n" for @{$j->{subcommands} // []};' "$secfile") ||
        fail "help $path --json failed"
    grep -q '^MISSING' <<<"$out" &&
        fail "'help $path': $(grep -m1 '^MISSING' <<<"$out" | cut -c9-) is not in man/qscope.1 (run: python3 man/gen-commands.py $QSCOPE)"
    n=$((n + 1))
    for sub in $(sed -n 's/^SUB //p' <<<"$out"); do
        check_entry "$path $sub"
    done
}
for name in $names; do
    check_entry "$name"
done
nested=$(grep -c '^\.B "lab gpt ' <<<"$section")
[ "$nested" -ge 12 ] || fail "man/qscope.1 documents $nested rows of lab gpt's nested table (12 expected at least)"
# and nothing documented that the table lacks
for w in $(grep '^\.B "' <<<"$section" | sed 's/^\.B "\([^ "]*\).*/\1/'); do
    grep -qx -- "$w" <<<"$names" || fail "man/qscope.1 documents '$w', which is not in the command table"
done

# every binding with help text in the TUI's table is in TUI KEYS
if [ -f src/tui/model.c ] && grep -q 'qs_tui_bindings\[\]' src/tui/model.c; then
    keys=$(sed -n '/^\.\\" keys-begin/,/^\.\\" keys-end/p' man/qscope.1 | unroff /dev/stdin |
           perl -CS -pe 's/\\\[u([0-9A-F]{4})\]/chr(hex($1))/ge' | tr '\n' ' ')
    while IFS= read -r h; do
        [ -n "$h" ] || continue
        grep -qF -- "$h" <<<"$keys" || fail "TUI binding '$h' is not in man/qscope.1 TUI KEYS"
    done < <(perl -0777 -ne 'if (/qs_tui_bindings\[\]\s*=\s*\{(.*?)\n\};/s) { my $t = $1;
        while ($t =~ /\{\s*\w+\s*,\s*(?:\x27(?:\\.|[^\x27])\x27|\w+)\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*\w+\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}/g) {
            my $h = $1; my $s = ""; $s .= $1 while $h =~ /"((?:[^"\\]|\\.)*)"/g; print "$s\n"; } }' src/tui/model.c)
fi
grep -q 'QSCOPE_LESSON_PATH' <<<"$page" || fail "ENVIRONMENT lacks QSCOPE_LESSON_PATH"
for v in NO_COLOR QSCOPE_KERNELS QSCOPE_HISTFILE XDG_STATE_HOME QSCOPE_THREADS QSCOPE_DATASETS; do
    grep -q "^\.B $v" man/qscope.1 || fail "ENVIRONMENT lacks $v"
done
echo "ok ($n commands)"
