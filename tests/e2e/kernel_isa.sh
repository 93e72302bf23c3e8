#!/usr/bin/env bash
# kernel_isa.sh — the instruction sets in the built objects match the CPUs that may run them
# (issue 18): dispatch only calls a tier's code when CPUID/XCR0 allow it, so an instruction
# of a higher tier in a lower tier's object (a header function inlined there, a flag in the
# wrong Makefile rule) runs — and faults — on a machine without it, which no test on a
# machine with it can see. From objdump of every object of the build:
#  - objects without a tier suffix (the library, ref.c, dispatch.c, drive.c): no VEX (c4/c5)
#    and no EVEX (62) instruction — they run on any x86-64;
#  - *_avx2.o and gemm_avxvnni.o (AVX-VNNI CPUs such as Alder Lake have no AVX-512): no EVEX
#    instruction, no zmm / k / xmm16+ register; vpdpbusd only in gemm_avxvnni.o, VEX-encoded;
#  - *_avx512.o / *_vnni.o / *_amx.o: no AVX-512 instruction outside F, BW, VL (and VNNI in
#    *_vnni.o and *_amx.o), the extensions dispatch checks (no DQ, CD, VBMI, IFMA, BF16,
#    FP16, BITALG, VPOPCNTDQ);
#  - AMX (ldtilecfg, tileloadd, tdpbusd, ...) only in *_amx.o, and there only the AMX-TILE
#    and AMX-INT8 instructions (no AMX-BF16 tdpbf16ps, no AMX-FP16).
# Then objects compiled with a wrong flag, a DQ instruction and a tile instruction outside
# the amx objects must be caught.
set -u
top=${QSCOPE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
objs=$(dirname "${QSCOPE:-$top/build/qscope}")
fail() { echo "FAIL: $*"; exit 1; }
case $(uname -m) in x86_64) ;; *) echo "ok (not x86-64: nothing to check)"; exit 0 ;; esac
command -v objdump >/dev/null || { echo "ok (skipped: no objdump)"; exit 0; }

# AVX-512 mnemonics of extensions the tiers do not check (EVEX forms only for the vandps
# family: their VEX forms are AVX)
deny512='^(kmovb|kaddb|kaddw|ktestb|ktestw|kandb|kandnb|korb|kxorb|kxnorb|knotb|kshift[lr]b|vpmullq|vcvtt?p[sd]2u?qq|vcvtu?qq2p[sd]|v(extract|insert)[fi](32x8|64x2)|vbroadcast[fi](32x2|32x8|64x2)|vbroadcasti32x2|vfpclass[ps][sd]|vreduce[ps][sd]|vrange[ps][sd]|vpmovm2[bwdq]|vpmov[bwdq]2m|vpconflict[dq]|vplzcnt[dq]|vpbroadcastm(b2q|w2d)|vperm[it]?2?b|vpermb|vpmultishiftqb|vpmadd52[lh]uq|vdpbf16ps|vcvtne2?ps2bf16|vpopcnt[bwdq]|vpshufbitqmb|vp2intersect[dq]|vpcompress[bw]|vpexpand[bw]|vpsh[lr]dv?[wdq]|vgf2p8.*|vaes.*|vpclmulqdq|v4fmadd.*|vp4dpwssds?|vexp2p[sd]|vrcp28.*|vrsqrt28.*|vgatherpf.*|vscatterpf.*)$'
deny512_evex='^(vandn?p[sd]|vorp[sd]|vxorp[sd])$'
# AMX mnemonics (AMX-TILE, -INT8, -BF16, -FP16, -COMPLEX) and the ones the amx tier checks
amx_all='^(ldtilecfg|sttilecfg|tilerelease|tilezero|tileloadd|tileloaddt1|tilestored|tdp[a-z0-9]*|tcmmr?lfp16ps)$'
amx_ok='^(ldtilecfg|sttilecfg|tilerelease|tilezero|tileloadd|tileloaddt1|tilestored|tdpb[su][su]d)$'
fp16='^v[a-z0-9]*(ph|sh)$'

# one line per instruction: "<object> <E|V|L> <mnemonic> <operands>" (E: EVEX, V: VEX)
scan() {
    objdump -d -w "$1" 2>/dev/null | awk -v o="$(basename "$1")" -F'\t' '
        NF >= 3 {
            n = split($2, b, " "); i = 1
            while (i <= n && b[i] ~ /^(66|67|f2|f3|2e|3e|26|36|64|65|f0)$/) i++
            enc = (b[i] == "62") ? "E" : (b[i] == "c4" || b[i] == "c5") ? "V" : "L"
            ins = $3; sub(/^ +/, "", ins)
            print o, enc, ins
        }'
}

# check every object under dir; prints the violations, returns 1 if any
check_dir() {
    local dir=$1 bad=0 f base cls
    while IFS= read -r f; do
        base=$(basename "$f")
        case $base in
            *_avx512.o) cls=avx512 ;;
            *_vnni.o) cls=vnni ;;
            *_amx.o) cls=amx ;;
            *_avxvnni.o) cls=avxvnni ;;
            *_avx2.o) cls=avx2 ;;
            *) cls=base ;;
        esac
        out=$(scan "$f" | awk -v cls="$cls" -v deny="$deny512" -v denye="$deny512_evex" \
                             -v fp16="$fp16" -v amx_all="$amx_all" -v amx_ok="$amx_ok" '
            {
                enc = $2; ins = $0; sub(/^[^ ]+ [^ ]+ /, "", ins)
                m = ins; sub(/^\{vex\} */, "", m); sub(/[ \t].*/, "", m)
                why = ""
                if (m ~ amx_all && cls != "amx") why = "AMX instruction outside the amx objects"
                else if (m ~ amx_all && m !~ amx_ok) why = "AMX extension the amx tier does not check"
                else if (cls == "base" && enc != "L") why = "VEX/EVEX instruction in an object any x86-64 runs"
                else if ((cls == "avx2" || cls == "avxvnni") && enc == "E") why = "EVEX (AVX-512) instruction"
                else if ((cls == "avx2" || cls == "avxvnni") && ins ~ /%(zmm|k[0-7]\>|[xy]mm(1[6-9]|2[0-9]|3[01])\>)/) why = "AVX-512 register"
                else if (m ~ /^vpdp(bu|ws)sds?$/ && cls != "vnni" && cls != "avxvnni" && cls != "amx") why = "VNNI outside the vnni objects"
                else if (m ~ /^vpdp/ && cls == "avxvnni" && enc != "V") why = "AVX-VNNI must be VEX-encoded"
                else if (cls == "avx512" || cls == "vnni" || cls == "amx") {
                    if (m ~ deny) why = "AVX-512 extension the tiers do not check"
                    else if (enc == "E" && m ~ denye) why = "AVX512DQ (EVEX form)"
                    else if (m ~ fp16 && m != "vcvtps2ph") why = "AVX512-FP16"
                }
                if (why != "") { print $1 ": " why ": " ins; n++ }
                if (n >= 5) exit
            }')
        if [ -n "$out" ]; then echo "$out"; bad=1; fi
    done < <(find "$dir" -name '*.o' | sort)
    return $bad
}

n=$(find "$objs/src" -name '*.o' | wc -l)
[ "$n" -gt 50 ] || fail "only $n objects under $objs/src (build first)"
[ -f "$objs/src/kernels/gemm_avxvnni.o" ] && [ -f "$objs/src/kernels/quant_avx512.o" ] &&
    [ -f "$objs/src/kernels/gemm_amx.o" ] ||
    fail "kernel tier objects missing under $objs/src/kernels"
out=$(check_dir "$objs/src") || fail "instruction sets of the built objects:
$out"
# the checks see what they look for: vpdpbusd is in the VNNI objects, zmm in quant_avx512.o
scan "$objs/src/kernels/gemm_avxvnni.o" | grep -q '^gemm_avxvnni.o V {vex} vpdpbusd' ||
    fail "no VEX vpdpbusd seen in gemm_avxvnni.o"
scan "$objs/src/kernels/gemm_vnni.o" | grep -q '^gemm_vnni.o E vpdpbusd .*%zmm' ||
    fail "no EVEX vpdpbusd seen in gemm_vnni.o"
for m in ldtilecfg tileloadd tdpbusd tilestored tilerelease; do
    scan "$objs/src/kernels/gemm_amx.o" | grep -Eq "^gemm_amx.o [EVL] $m( |$)" ||
        fail "no $m seen in gemm_amx.o"
done

# objects built with a wrong flag are caught
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
flags="-O2 -std=c11 -fopenmp -I$top/include -I$top/src -D_GNU_SOURCE"
mkdir -p "$tmp/a" "$tmp/b" "$tmp/c" "$tmp/d" "$tmp/e"
$cc $flags -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -c \
    "$top/src/kernels/gemm_avx2.c" -o "$tmp/a/gemm_avx2.o" || fail "compile gemm_avx2.c"
out=$(check_dir "$tmp/a") && fail "AVX-512 flags on gemm_avx2.c not caught"
grep -q 'gemm_avx2.o: \(EVEX (AVX-512) instruction\|AVX-512 register\)' <<<"$out" ||
    fail "wrong message: $out"
$cc $flags -mavx2 -mfma -mf16c -c "$top/src/kernels/ref.c" -o "$tmp/b/ref.o" ||
    fail "compile ref.c"
out=$(check_dir "$tmp/b") && fail "AVX2 flags on ref.c not caught"
grep -q 'ref.o: VEX/EVEX instruction' <<<"$out" || fail "wrong message: $out"
sed 's/%{vex%} vpdpbusd %%ymm13/vpdpbusd %%ymm13/' "$top/src/kernels/gemm_avxvnni.c" \
    >"$tmp/gemm_avxvnni.c"
$cc $flags -I"$top/src/kernels" -mavx2 -mfma -mf16c -mavxvnni -c "$tmp/gemm_avxvnni.c" \
    -o "$tmp/c/gemm_avxvnni.o" || fail "compile gemm_avxvnni.c without one {vex}"
out=$(check_dir "$tmp/c") && fail "EVEX vpdpbusd in gemm_avxvnni.o not caught"
grep -q 'gemm_avxvnni.o: EVEX (AVX-512) instruction: vpdpbusd' <<<"$out" ||
    fail "wrong message: $out"
printf '#include <immintrin.h>\n__m512 f(__m512 a, __m512 b) { return _mm512_and_ps(a, b); }\n' \
    >"$tmp/dq_avx512.c"
$cc -O2 -mavx512f -mavx512dq -c "$tmp/dq_avx512.c" -o "$tmp/d/dq_avx512.o" 2>/dev/null ||
    fail "compile the DQ sample"
out=$(check_dir "$tmp/d") && fail "AVX512DQ vandps not caught"
grep -q 'dq_avx512.o: AVX512DQ (EVEX form): vandps' <<<"$out" || fail "wrong message: $out"
# the AMX kernel built as a vnni object (its tile instructions would reach a CPU without AMX)
$cc $flags -I"$top/src/kernels" -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl \
    -mavx512vnni -mamx-tile -mamx-int8 -c "$top/src/kernels/gemm_amx.c" \
    -o "$tmp/e/tiles_vnni.o" || fail "compile gemm_amx.c"
out=$(check_dir "$tmp/e") && fail "AMX in a vnni object not caught"
grep -q 'tiles_vnni.o: AMX instruction outside the amx objects' <<<"$out" ||
    fail "wrong message: $out"
echo "ok ($n objects)"
