#!/usr/bin/env bash
# handout.sh — `qscope play --html LESSON`: a lesson's handout is well-formed, carries the
# lesson's title, its commands, every narration number and every expectation with a value
# that meets it as the lesson file writes it (tests/e2e/handout_check.py recomputes each);
# strings from a lesson or a file are escaped; a failing lesson writes no page; the checker
# itself fails on a page that lost an expectation or a closing tag.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check=tests/e2e/handout_check.py

# Every shipped lesson's page is made and checked by tests/run.sh (`play --html --strict`, one
# play per lesson, with handout_check.py); here one of them, for the checker's mutations.
l=lessons/06-granularity.lesson
"$QSCOPE" play --html "$l" >"$tmp/06-granularity.html" 2>"$tmp/err" || fail "$l: exit $?: $(cat "$tmp/err")"
[ -s "$tmp/err" ] && fail "$l: stderr: $(cat "$tmp/err")"
python3 "$check" "$l" "$tmp/06-granularity.html" || fail "$l: handout check"
# documented where a user looks
"$QSCOPE" --help | grep -qF -- 'play --html [--strict] LESSON' || fail "--help lacks play --html"
grep -qF 'play \-\-html' man/qscope.1 || fail "man/qscope.1 lacks play --html"
grep -qF 'play --html' README.md || fail "README lacks play --html"

# the checker can fail: a page without one expectation, one with a tag left open, one whose
# value no longer meets the lesson's expectation
python3 - "$tmp/06-granularity.html" "$tmp" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
out = sys.argv[2]
open(out + "/drop.html", "w").write(re.sub(r'<li class="expect ok" data-line=.*?</li>\n', "", src, count=1, flags=re.S))
open(out + "/open.html", "w").write(src.replace("</pre>", "", 1))
open(out + "/value.html", "w").write(re.sub(r'(<span class="got">sqnr_db = )([-0-9.]+)',
    lambda m: m.group(1) + str(float(m.group(2)) + 1), src, count=1))
PY
for bad in drop open value; do
    cmp -s "$tmp/$bad.html" "$tmp/06-granularity.html" && fail "$bad: the mutation did nothing"
    python3 "$check" "$l" "$tmp/$bad.html" >/dev/null && fail "the checker passed a broken page ($bad)"
done

# untrusted strings: the lesson's title, narration, quiz and command words, and a file name
cp tests/fixtures/npy_f4_c.npy "$tmp/<img src=x onerror=alert(1)>.npy"
cat >"$tmp/evil.lesson" <<L
title: <script>alert("t")</script> & co

## <b>head</b>
Narration <iframe src="http://example.com/"></iframe> with *bold & <i>* and 'quotes'.
> load "$tmp/<img src=x onerror=alert(1)>.npy"
> values 1 2 3 # </pre><script>x</script>
> stats
expect max == 3
quiz: <svg onload=alert(1)> question?
answer: <b>yes</b>
hint: a </details> hint
L
"$QSCOPE" play --html "$tmp/evil.lesson" >"$tmp/evil.html" 2>"$tmp/err" || fail "evil: exit $?: $(cat "$tmp/err")"
python3 "$check" "$tmp/evil.lesson" "$tmp/evil.html" || fail "evil: handout check"
for raw in '<script' '<iframe' '<img' '<svg onload' '<b>' '<i>' '</details> hint'; do
    grep -qF -- "$raw" "$tmp/evil.html" && fail "evil: '$raw' reached the page unescaped"
done
for esc in '&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; co' '&lt;img src=x onerror=alert(1)&gt;.npy' \
           '&lt;iframe' '<strong>bold &amp; &lt;i&gt;</strong>' '&#39;quotes&#39;' '&lt;b&gt;yes&lt;/b&gt;'; do
    grep -qF -- "$esc" "$tmp/evil.html" || fail "evil: '$esc' not in the page"
done
# bytes that are not UTF-8 and control characters become U+FFFD
printf 'title: bytes \xff\x01 end\n\nText \xc3\x28 here.\n> values 1\n' >"$tmp/bytes.lesson"
"$QSCOPE" play --html "$tmp/bytes.lesson" >"$tmp/bytes.html" 2>/dev/null; rc=$?
[ $rc -eq 0 ] || [ $rc -eq 2 ] || fail "bytes: exit $rc (want 0, or 2 if the parser refuses it)"
if [ $rc -eq 0 ]; then
    python3 -c "import sys; open(sys.argv[1], encoding='utf-8').read()" "$tmp/bytes.html" \
        || fail "bytes: the page is not UTF-8"
    grep -qF 'bytes �� end' "$tmp/bytes.html" || fail "bytes: title not replaced by U+FFFD"
fi
# C1 controls and bidirectional overrides (a title that reads as other text) too
printf 'title: c1 \xc2\x9b2J rlo \xe2\x80\xaegnp.exe end\n\nText.\n> values 1\n' >"$tmp/c1.lesson"
"$QSCOPE" play --html "$tmp/c1.lesson" >"$tmp/c1.html" 2>/dev/null || fail "c1: exit $?"
grep -qF 'c1 �2J rlo �gnp.exe end' "$tmp/c1.html" || fail "c1: C1 or RLO reached the page"

# a lesson that fails writes no page and exits 1 naming the line
printf 'title: Wrong\n\nText.\n> values 3 7\n> stats\nexpect max == 8\n' >"$tmp/wrong.lesson"
"$QSCOPE" play --html "$tmp/wrong.lesson" >"$tmp/wrong.html" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "wrong: exit $rc, want 1"
[ -s "$tmp/wrong.html" ] && fail "wrong: a page was written"
grep -qF "wrong.lesson:6: expect max == 8 failed" "$tmp/err" || fail "wrong: $(cat "$tmp/err")"
# one page per run
"$QSCOPE" play --html lessons/01-why-quantize.lesson lessons/02-floating-point.lesson \
    >/dev/null 2>"$tmp/err" && fail "two lessons accepted"
grep -qF "exactly one LESSON" "$tmp/err" || fail "two lessons: $(cat "$tmp/err")"
echo "handout: ok"
