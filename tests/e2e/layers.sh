#!/usr/bin/env bash
# layers.sh — `make layers` passes on the tree and its objects, and fails when a back-edge is
# added: an include from base up to the session, and a link from base to a session symbol.
set -u
top=${QSCOPE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
objs=$(dirname "${QSCOPE:-$top/build/qscope}")
fail() { echo "FAIL: $*"; exit 1; }

out=$(bash "$top/tests/layers.sh" "$top" "$objs" 2>&1) || fail "layers on the tree: $out"
grep -q "objects, no back-edge" <<<"$out" || fail "the link check did not run: $out"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r "$top/src" "$top/include" "$tmp/"
out=$(bash "$top/tests/layers.sh" "$tmp" "$tmp/none" 2>&1) || fail "clean copy: $out"

# An include back-edge: base/tensor.c includes the session header.
sed -i '0,/#include "qscope\/tensor.h"/s//#include "qscope\/tensor.h"\n#include "qscope\/session.h"/' \
    "$tmp/src/base/tensor.c"
out=$(bash "$top/tests/layers.sh" "$tmp" "$tmp/none" 2>&1) && fail "include back-edge not caught"
grep -q 'src/base/tensor.c:[0-9]*: base includes "qscope/session.h" (session)' <<<"$out" \
    || fail "wrong message: $out"
# An engine header that includes a face header.
cp -r "$top/src" "$top/include" "$tmp/" 
echo '#include "front/front.h"' >>"$tmp/include/qscope/synth.h"
out=$(bash "$top/tests/layers.sh" "$tmp" "$tmp/none" 2>&1) && fail "header back-edge not caught"
grep -q 'include/qscope/synth.h:[0-9]*: engine includes "front/front.h" (faces)' <<<"$out" \
    || fail "wrong message: $out"

# A link back-edge: an object of base that calls qs_session_init (defined by the session).
cp -r "$top/src" "$top/include" "$tmp/"
mkdir -p "$tmp/obj"
(cd "$objs" && find src -name '*.o' | cpio -pdm --quiet "$tmp/obj" 2>/dev/null) \
    || (cd "$objs" && find src -name '*.o' -exec cp --parents {} "$tmp/obj/" \;)
printf 'void qs_session_init(void *s);\nvoid evil(void) { qs_session_init(0); }\n' >"$tmp/evil.c"
${CC:-cc} -c "$tmp/evil.c" -o "$tmp/obj/src/base/evil.o" || fail "cannot compile the probe"
out=$(bash "$top/tests/layers.sh" "$tmp" "$tmp/obj" 2>&1) && fail "link back-edge not caught"
grep -q 'src/base/evil.o: base uses qs_session_init, defined in src/session/session.o (session)' \
    <<<"$out" || fail "wrong message: $out"
echo ok
