#!/usr/bin/env bash
# kernels.sh — kernel tiers from the command line (issue 18): --version names the tier in use;
# QSCOPE_KERNELS forces a tier the CPU has (the same table --version then names) and refuses
# a tier it lacks or an unknown name with one line on stderr and exit status 2.
set -u
cd "$QSCOPE_TOP"
fail() { echo "FAIL: $*"; exit 1; }

v=$(env -u QSCOPE_KERNELS "$QSCOPE" --version) || fail "--version exit $?"
grep -Eq '^qscope [^ ]+ \(kernels: [a-z0-9]+, tier (ref|avx2|avx512|vnni|amx)\)$' <<<"$v" ||
    fail "--version does not name the tier: $v"
best=$(sed 's/.*tier \([a-z0-9]*\))$/\1/' <<<"$v")

out=$(QSCOPE_KERNELS=ref "$QSCOPE" --version) || fail "ref refused"
[ "$out" = "${v%%(*}(kernels: ref, tier ref)" ] || fail "QSCOPE_KERNELS=ref: $out"
# the CPU's tiers, from /proc/cpuinfo (independent of qscope's CPUID reading)
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { grep -qw "$1" <<<"$flags"; }
for t in avx2 avx512 vnni amx; do
    case $t in
        avx2) ok=0; has avx2 && has fma && has f16c && ok=1 ;;
        avx512) ok=0; has avx512f && has avx512bw && has avx512vl && ok=1 ;;
        vnni) ok=0; { has avx512f && has avx512bw && has avx512vl && has avx512_vnni; } ||
                  { has avx2 && has fma && has f16c && has avx_vnni; } && ok=1 ;;
        # (Linux lists amx_tile only where it enables the tile state; the permission qscope
        # asks for is granted by every kernel that does, 5.16 and later)
        amx) ok=0; has avx512f && has avx512bw && has avx512vl && has avx512_vnni &&
                 has amx_tile && has amx_int8 && ok=1 ;;
    esac
    out=$(QSCOPE_KERNELS=$t "$QSCOPE" --version 2>/tmp/qs_kern_err.$$); rc=$?
    err=$(cat /tmp/qs_kern_err.$$); rm -f /tmp/qs_kern_err.$$
    if [ $ok = 1 ]; then
        [ $rc -eq 0 ] || fail "QSCOPE_KERNELS=$t refused on a CPU that has it: $err"
        grep -q "tier $t)" <<<"$out" || fail "QSCOPE_KERNELS=$t runs: $out"
    else
        [ $rc -eq 2 ] || fail "QSCOPE_KERNELS=$t on a CPU without it: exit $rc"
        [ "$(wc -l <<<"$err")" -eq 1 ] || fail "refusal is not one line: $err"
        grep -q "^qscope: QSCOPE_KERNELS=$t: this CPU lacks the $t tier" <<<"$err" ||
            fail "refusal message: $err"
        [ -z "$out" ] || fail "refused run printed: $out"
        # nothing runs either: a command is refused the same way
        QSCOPE_KERNELS=$t "$QSCOPE" -c help >/dev/null 2>&1; [ $? -eq 2 ] || fail "-c ran with $t"
    fi
done
QSCOPE_KERNELS=sse9 "$QSCOPE" --version >/dev/null 2>/tmp/qs_kern_err.$$; rc=$?
err=$(cat /tmp/qs_kern_err.$$); rm -f /tmp/qs_kern_err.$$
[ $rc -eq 2 ] || fail "unknown tier: exit $rc"
grep -q "unknown tier" <<<"$err" || fail "unknown tier message: $err"
echo "ok (best tier here: $best)"
