#!/usr/bin/env bash
# run.sh — `make fuzz`: builds every tests/fuzz/fuzz_*.c with clang + libFuzzer + ASan/UBSan
# against the library sources and runs each for FUZZ_SECONDS on a scratch copy of its seed
# corpus tests/fuzz/corpus_<name>/ (fuzz_io.c -> corpus_io). Crashes land in build-fuzz/.
# Usage: FUZZ_SECONDS=60 [FUZZ_RUNS=N FUZZ_SEED=S] [FUZZ_JOBS=2] bash tests/fuzz/run.sh [fuzz_io ...]
# Sources build and harnesses run FUZZ_JOBS at a time (default 2).
set -u
cd "$(dirname "$0")/../.."
OUT=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -fopenmp $SAN"
CPPFLAGS="-Iinclude -Isrc -D_GNU_SOURCE -DQSCOPE_DATADIR=\"/usr/local/share/qscope\" \
$(pkg-config --cflags jansson libzip 2>/dev/null)"
LIBS="$(pkg-config --libs jansson zlib libzip 2>/dev/null || echo -ljansson -lz -lzip) -lm -lpthread"
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$OUT/obj" "$OUT/artifacts"

# The library, instrumented for coverage: the Makefile's LIB_DIRS (make fuzz passes them). A
# source that does not build fails the run (it used to be skipped with a warning, so a
# harness could pass without the code it was meant to fuzz).
fail=0
objs=()
JOBS=${FUZZ_JOBS:-2}
running=0
pool_wait() {     # keeps at most JOBS background jobs; a failed one sets fail
    while [ "$running" -ge "${1:-$JOBS}" ]; do
        wait -n; [ $? -eq 0 ] || fail=1
        running=$((running - 1))
    done
}
lib_dirs=${FUZZ_LIB_DIRS:-base io synth numfmt quant kernels nn session cmd lesson}
for src in $(for d in $lib_dirs; do echo src/"$d"/*.c; done); do
    [ -f "$src" ] || continue
    extra=""
    flags="$CFLAGS -fsanitize=fuzzer-no-link"
    # per-file instruction sets, as the Makefile's pattern rules give them. The SIMD kernels
    # are built without coverage and sanitizers: the harnesses fuzz the parsers and the
    # lessons (run with the instrumented ref kernels: QSCOPE_KERNELS=ref below), the SIMD
    # ones are checked against _ref under ASan/UBSan by `make asan`, and instrumented here
    # quant_avx2.c and quant_avx512.c took clang 3 to 4 minutes each.
    case "$src" in *_avx2.c|*_avx512.c|*_vnni.c|*_avxvnni.c|*_amx.c)
        flags="-std=c11 -g -O1 -fno-omit-frame-pointer -fopenmp"
        case "$(uname -m)" in x86_64|i?86) extra="-mavx2 -mfma -mf16c" ;; *) continue ;; esac ;;
    esac
    case "$src" in
        *_avx512.c) extra="$extra -mavx512f -mavx512bw -mavx512vl" ;;
        *_vnni.c) extra="$extra -mavx512f -mavx512bw -mavx512vl -mavx512vnni" ;;
        *_avxvnni.c) extra="$extra -mavxvnni" ;;
        *_amx.c) extra="$extra -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mamx-tile -mamx-int8" ;;
    esac
    obj="$OUT/obj/${src//\//_}.o"
    objs+=("$obj")
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find include -newer "$obj" -name '*.h' | head -1)" ]; then
        pool_wait
        (   if ! $CC $CPPFLAGS $flags $extra -c "$src" -o "$obj" \
                 2>"$obj.err"; then
                echo "FAIL $src (does not build with $CC):"; head -5 "$obj.err"
                rm -f "$obj"; exit 1
            fi ) &
        running=$((running + 1))
    fi
done
pool_wait 1
[ "$fail" -eq 0 ] || exit 1
rm -f "$OUT/libqscope.a"
ar rcs "$OUT/libqscope.a" "${objs[@]}"

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
    for h in tests/fuzz/fuzz_*.c; do [ -f "$h" ] && harnesses+=("$(basename "$h" .c)"); done
fi
# One harness: build, then run on a scratch copy of its corpus; its lines are printed when it
# ends (FUZZ_JOBS harnesses run at a time).
run_harness() {
    local name=$1 src="tests/fuzz/$1.c" bin="$OUT/$1" seeds work det=()
    if ! $CC $CPPFLAGS $CFLAGS -fsanitize=fuzzer "$src" "$OUT/libqscope.a" $LIBS -o "$bin"; then
        echo "FAIL $name (build)"; return 1
    fi
    seeds="tests/fuzz/corpus_${name#fuzz_}"
    work="$OUT/corpus_${name#fuzz_}"
    mkdir -p "$work" "$seeds"
    # FUZZ_RUNS: a fixed number of inputs from a fixed seed (CI): the run is then a prefix of
    # one deterministic sequence, the same on every machine, so CI cannot turn red by luck.
    [ -n "${FUZZ_RUNS:-}" ] && det=(-seed="${FUZZ_SEED:-1}" -runs="$FUZZ_RUNS")
    [ -n "${FUZZ_RUNS:-}" ] && rm -rf "$work" && mkdir -p "$work"
    # QSCOPE_KERNELS=ref: the kernels a parsed input reaches run the instrumented plain C
    # versions, so ASan still sees every read of a parsed buffer (the SIMD ones are not
    # instrumented here, see above)
    if QSCOPE_KERNELS=ref "$bin" "${det[@]}" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$OUT/artifacts/$name-" -print_final_stats=1 "$work" "$seeds" \
        >"$OUT/$name.log" 2>&1; then
        echo "ok   $name (${FUZZ_SECONDS}s at most: $(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$name.log" | grep -o '[0-9]*$') runs)"
    else
        echo "FAIL $name — see $OUT/$name.log"; grep -a -E 'ERROR|SUMMARY|runtime error|Test unit written' "$OUT/$name.log" | head -10
        return 1
    fi
}
echo "fuzz: ${#harnesses[@]} harnesses, ${FUZZ_SECONDS}s at most each, $JOBS at a time"
for name in "${harnesses[@]}"; do
    pool_wait
    run_harness "$name" &
    running=$((running + 1))
done
pool_wait 1
exit $fail
