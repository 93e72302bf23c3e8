#!/usr/bin/env bash
# handouts.sh — CI only (`make ci-handouts`): renders every lesson's handout
# (`qscope play --html`, the pages `make test` left in $BUILD/handouts when they are current)
# in headless Chromium and fails on a blank or broken page: the DOM
# Chromium builds must hold the lesson's title as <h1>, every SVG figure the file holds and
# every step, and the screenshot must not be one colour. Needs Debian's `chromium`, which
# `make ci-handouts` installs; `make run`, `make test` and `make deps` never pull a browser.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
QSCOPE=${QSCOPE:-$PWD/$BUILD/qscope}
browser=$(command -v chromium || command -v chromium-browser) || {
    echo "handouts: no chromium (make ci-handouts installs it)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --hide-scrollbars --window-size=1000,1400)
bad=0; n=0
hdir=$(cd "$BUILD/handouts" 2>/dev/null && pwd)   # absolute: Chromium wants a file:// URL
# One lesson: its lines go to $tmp/NAME.out, printed when it ends; status 1 on a failure.
one() {
    local l=$1 b page ud
    b=$(basename "$l" .lesson)
    # the page make test wrote and checked (tests/run.sh), when it is newer than the binary
    # and the lesson; else played here
    page="$hdir/$b.html"
    if [ -z "$hdir" ] || ! [ -s "$page" ] || ! [ "$page" -nt "$QSCOPE" ] || ! [ "$page" -nt "$l" ]; then
        page="$tmp/$b.html"
        if ! "$QSCOPE" play --html "$l" >"$page"; then
            echo "FAIL $l: qscope play --html"; return 1
        fi
    fi
    # one start of the browser gives both the DOM it built and a screenshot
    ud=$(mktemp -d "$tmp/profile.XXXX")
    timeout 120 "$browser" "${flags[@]}" --user-data-dir="$ud" --screenshot="$tmp/$b.png" \
        --dump-dom "file://$page" >"$tmp/$b.dom" 2>"$tmp/$b.log"
    if ! python3 - "$l" "$page" "$tmp/$b.dom" "$tmp/$b.png" <<'PY'
import html, re, struct, sys, zlib
lesson, page, dom_path, png_path = sys.argv[1:5]
errs = []
title = next(l[6:].strip() for l in open(lesson, encoding="utf-8") if l.startswith("title:"))
src = open(page, encoding="utf-8").read()
try:
    dom = open(dom_path, encoding="utf-8").read()
except OSError:
    dom = ""
h1 = re.search(r"<h1>(.*?)</h1>", dom, re.S)
if not h1 or html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))).strip() != title:
    errs.append(f"the rendered DOM has no <h1> {title!r}")
for tag in ("<svg", "<section", "<pre"):
    if dom.count(tag) != src.count(tag):
        errs.append(f"{src.count(tag)} {tag}> in the page, {dom.count(tag)} in the rendered DOM")
if "<parsererror" in dom:
    errs.append("the browser reports a parser error")
# the screenshot: decode the PNG (8-bit RGB/RGBA, any filter) and count its colours
try:
    data = open(png_path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        ln, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + ln]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"PNG depth {depth} type {ctype}"
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        pos += 12 + ln
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(min(h, 480)):   # the top of the page (title, first step): enough to
                                   # tell a page from a blank one, 3x faster in pure Python
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 7 == 0:
            for x in range(0, stride, bpp * 3):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    if len(colours) < 8:
        errs.append(f"the screenshot has {len(colours)} colours: blank")
except Exception as e:  # a missing or broken screenshot is a failure
    errs.append(f"screenshot: {e}")
for e in errs:
    print(f"{lesson}: {e}")
sys.exit(1 if errs else 0)
PY
    then
        echo "FAIL $l"; tail -5 "$tmp/$b.log"; return 1
    fi
    echo "ok   $l (rendered in $(basename "$browser"))"
}
# HANDOUT_JOBS lessons at a time (default 2): each Chromium start takes seconds
jobs_max=${HANDOUT_JOBS:-2}; running=0
finish() { wait -n; [ $? -eq 0 ] || bad=1; running=$((running - 1)); }
for l in lessons/*.lesson; do
    while [ "$running" -ge "$jobs_max" ]; do finish; done
    b=$(basename "$l" .lesson)
    ( one "$l" >"$tmp/$b.out" 2>&1; rc=$?; cat "$tmp/$b.out"; exit $rc ) &
    running=$((running + 1)); n=$((n + 1))
done
while [ "$running" -gt 0 ]; do finish; done
echo "handouts: $n rendered, $([ $bad -eq 0 ] && echo ok || echo FAILED)"
exit $bad
