#!/usr/bin/env bash
# layers.sh — `make layers`: checks that no code includes or links upward through the layers
#
#   base (0)    err tensor stats progress paths              src/base
#   engine (1)  io numfmt synth quant kernels nn             src/io src/numfmt ... src/nn
#   session (2) session cache, the command table, lessons    src/session src/cmd src/lesson
#   faces (3)   front repl tui main                          src/front src/repl src/tui src/main.c
#
# A file may include headers of its own layer or below, and its object may only use symbols
# defined in objects of its own layer or below. Exits 1 and names every back-edge found.
# Usage: bash tests/layers.sh [ROOT [OBJDIR]]   (ROOT the source tree, default the repo;
# OBJDIR the build directory whose src/ objects are checked with nm, default $BUILD or build;
# the link check is skipped when it holds no objects).
set -u
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
OBJDIR=${2:-$ROOT/${BUILD:-build}}
names=(base engine session faces)

# The layer of a source directory under src/ (main.c counts as faces).
dir_layer() {
    case $1 in
        base) echo 0 ;;
        io|numfmt|synth|quant|kernels|nn) echo 1 ;;
        session|cmd|lesson) echo 2 ;;
        front|repl|tui|main.c) echo 3 ;;
        *) echo -1 ;;
    esac
}
# The layer of a public header include/qscope/NAME.h. A header not listed here is an engine
# header (add a row when a new header belongs elsewhere).
hdr_layer() {
    case $1 in
        err|tensor|stats|progress|paths|alloc) echo 0 ;;
        session|cmd|lesson|script|result|screens) echo 2 ;;
        *) echo 1 ;;
    esac
}

bad=0
say() { echo "layers: $*"; bad=1; }

# ---- includes ----------------------------------------------------------------------------
# The layer of the file that includes, and of what it includes.
file_layer() {
    local f=${1#"$ROOT"/}
    case $f in
        include/qscope/*.h) hdr_layer "$(basename "$f" .h)" ;;
        src/main.c) dir_layer main.c ;;
        src/*/*) dir_layer "$(cut -d/ -f2 <<<"$f")" ;;
        *) echo -1 ;;
    esac
}
inc_layer() {  # $1 including file, $2 the quoted include path
    local inc=$2
    case $inc in
        qscope/*) local b=${inc##*/}; hdr_layer "${b%.*}" ;;
        */*) local d=${inc%%/*}; dir_layer "$d" ;;         # "front/front.h" (-Isrc)
        *) file_layer "$(dirname "$1")/$inc" ;;            # a private header next to the file
    esac
}

files=$(cd "$ROOT" && find src include -name '*.[ch]' | sort)
declare -A flayer
for rel in $files; do
    flayer[$rel]=$(file_layer "$ROOT/$rel")
    [ "${flayer[$rel]}" -ge 0 ] || say "$rel: directory not mapped to a layer (add it to tests/layers.sh)"
done
re='^([^:]*):([0-9]*):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)"'
while IFS= read -r line; do
    [[ $line =~ $re ]] || continue
    rel=${BASH_REMATCH[1]}; n=${BASH_REMATCH[2]}; inc=${BASH_REMATCH[3]}
    l=${flayer[$rel]:--1}; [ "$l" -ge 0 ] || continue
    case $inc in ../*|*/../*) say "$rel:$n: includes \"$inc\" across directories"; continue ;; esac
    il=$(inc_layer "$ROOT/$rel" "$inc")
    if [ "$il" -lt 0 ]; then say "$rel:$n: \"$inc\" is not mapped to a layer"; continue; fi
    if [ "$il" -gt "$l" ]; then
        say "$rel:$n: ${names[$l]} includes \"$inc\" (${names[$il]})"
    fi
done < <(cd "$ROOT" && grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files)

# ---- symbols -----------------------------------------------------------------------------
if [ -d "$OBJDIR/src" ] && command -v nm >/dev/null \
        && [ -n "$(cd "$OBJDIR" && find src -name '*.o' | head -1)" ]; then
    objs=$(cd "$OBJDIR" && find src -name '*.o' | sort)
    # "layer object" per mapped object, then nm over all of them at once.
    map=$(for o in $objs; do
              d=$(cut -d/ -f2 <<<"$o"); [ "$o" = src/main.o ] && d=main.c
              echo "$(dir_layer "$d") $o"
          done)
    nobj=$(awk '$1 >= 0' <<<"$map" | wc -l)
    edges=$(cd "$OBJDIR" && nm -A $(awk '$1 >= 0 {print $2}' <<<"$map") 2>/dev/null | awk -v map="$map" '
        BEGIN { n = split(map, m, "\n"); for (i = 1; i <= n; i++) { split(m[i], f, " "); L[f[2]] = f[1] } }
        { split($1, p, ":"); o = p[1]; t = $(NF-1); sym = $NF
          if (t == "U") { use[++nu] = o SUBSEP sym }
          else if (t ~ /^[TDBRCGSVW]$/) { def[sym] = o } }
        END { names = "base engine session faces"; split(names, nm_, " ")
              for (i = 1; i <= nu; i++) { split(use[i], u, SUBSEP); o = u[1]; sym = u[2]
                  if (!(sym in def)) continue; d = def[sym]
                  if (L[d] > L[o]) printf "%s: %s uses %s, defined in %s (%s)\n", o, nm_[L[o]+1], sym, d, nm_[L[d]+1] } }')
    if [ -n "$edges" ]; then
        while IFS= read -r e; do say "$e"; done <<<"$edges"
    fi
    [ "$bad" -eq 0 ] && echo "layers: $(wc -w <<<"$files") files and $nobj objects, no back-edge"
else
    [ "$bad" -eq 0 ] && echo "layers: $(wc -w <<<"$files") files, no include back-edge (no objects in $OBJDIR/src: link check skipped)"
fi
exit $bad
