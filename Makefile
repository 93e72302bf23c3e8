# Makefile — qscope: build, test, bench, sanitizers, fuzzing, install (plain GNU make).
#
#   make            build build/qscope
#   make run        build and start the TUI on the bundled default tensor
#   make test       `make layers`, unit tests (Criterion), end-to-end tests (REPL, -c, tmux TUI),
#                   lessons
#   make layers     no #include or link back-edge between base, engine, session and faces
#   make asan       the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (tests/bench), writes bench.json
#   make fuzz       libFuzzer harnesses (tests/fuzz), FUZZ_SECONDS each
#   make deps       install the Debian packages the build and tests need
#   make ci-handouts CI only: render every lesson's handout in headless Chromium
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/qscope
CC      ?= cc
ifeq ($(origin CC),default)
CC      := gcc
endif
BUILD   ?= build
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 30
FUZZ_RUNS ?=
FUZZ_SEED ?= 1

# Debian packages the build and the tests need (make deps installs them).
DEB_PKGS = gcc make pkg-config libncurses-dev libreadline-dev libcriterion-dev zlib1g-dev \
           libjansson-dev libzip-dev tmux groff-base mandoc
PKG_MODULES = ncursesw readline jansson zlib criterion libzip

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null || echo $(2))

OPT     ?= -O2
WARN    = -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(CI),true)
WARN   += -Werror
endif
ifdef WERROR
WARN   += -Werror
endif
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE -DQSCOPE_DATADIR='"$(DATADIR)"' \
            $(call pc_cflags,jansson ncursesw readline libzip)
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 $(WARN) -fopenmp -MMD -MP
SIMD_FLAGS = -mavx2 -mfma -mf16c
AVX512_FLAGS = $(SIMD_FLAGS) -mavx512f -mavx512bw -mavx512vl
LDLIBS_LIB  = $(call pc_libs,jansson,-ljansson) $(call pc_libs,zlib,-lz) \
              $(call pc_libs,libzip,-lzip) -lm -lpthread
LDLIBS_FACE = $(call pc_libs,readline,-lreadline) $(call pc_libs,ncursesw,-lncursesw)
LDLIBS_TEST = $(call pc_libs,criterion,-lcriterion)
LDFLAGS += -fopenmp

ARCH := $(shell uname -m)

# The library: every module but the faces. Faces: src/front (shared rendering), repl, tui.
LIB_DIRS  = base io synth numfmt quant kernels nn session cmd lesson
LIB_SRC   = $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
ifeq ($(filter x86_64 i686 i386,$(ARCH)),)
LIB_SRC  := $(filter-out %_avx2.c %_avx512.c %_vnni.c %_avxvnni.c %_amx.c,$(LIB_SRC))
endif
FACE_SRC  = $(wildcard src/front/*.c src/repl/*.c src/tui/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
FACE_OBJ  = $(FACE_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ  = $(BUILD)/src/main.o
LIB_A     = $(BUILD)/libqscope.a
FACE_A    = $(BUILD)/libqsface.a
BIN       = $(BUILD)/qscope

UNIT_SRC  = $(wildcard tests/unit/*.c)
ifeq ($(filter x86_64 i686 i386,$(ARCH)),)
UNIT_SRC := $(filter-out tests/unit/test_zemu.c,$(UNIT_SRC))
endif
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC = $(wildcard tests/bench/*.c)
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all run test layers unit e2e lessons-check asan bench fuzz deps deps-check ci-deps install clean \
        datasets man-check ci-handouts

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SIMD_FLAGS) -c $< -o $@

# AVX-512 / VNNI tiers: compiled on every x86 build, called only when CPUID/XCR0 allow
$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(AVX512_FLAGS) -c $< -o $@

$(BUILD)/%_vnni.o: %_vnni.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(AVX512_FLAGS) -mavx512vnni -c $< -o $@

# AMX: the vnni flags plus the tile instructions (called only when CPUID, XCR0 and Linux's
# permission allow: dispatch.c)
$(BUILD)/%_amx.o: %_amx.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(AVX512_FLAGS) -mavx512vnni -mamx-tile -mamx-int8 -c $< -o $@

$(BUILD)/%_avxvnni.o: %_avxvnni.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SIMD_FLAGS) -mavxvnni -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FACE_A): $(FACE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(MAIN_OBJ) $(FACE_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(FACE_A) $(LIB_A) $(LDLIBS_FACE) $(LDLIBS_LIB)

# test_zemu compares src/kernels/zemu.h with this CPU's AVX2 instructions (skips without them)
$(BUILD)/tests/test_zemu: private CFLAGS += $(SIMD_FLAGS)
$(BUILD)/tests/%: tests/unit/%.c $(FACE_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests -o $@ $< $(FACE_A) $(LIB_A) $(LDFLAGS) \
	    $(LDLIBS_TEST) $(LDLIBS_FACE) $(LDLIBS_LIB)

$(BUILD)/bench/%: tests/bench/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O3 -o $@ $< $(LIB_A) $(LDFLAGS) $(LDLIBS_LIB) -ldl

-include $(LIB_OBJ:.o=.d) $(FACE_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

# ---- running ------------------------------------------------------------------------------
run: deps-check
	@$(MAKE) --no-print-directory all
	./$(BIN)

# ---- tests --------------------------------------------------------------------------------
test: deps-check
	@$(MAKE) --no-print-directory -j2 all $(UNIT_BIN)
	@BUILD=$(BUILD) bash tests/layers.sh
	@# QSCOPE_TEST_ZEMU=1: test_kernels runs the emulated AVX-512 tables on every machine
	@# (on one with AVX-512 as well as the real ones: what an AVX2-only machine relies on)
	@BUILD=$(BUILD) QSCOPE_TEST_ZEMU=1 bash tests/run.sh

# No #include or link edge may point up the layers base <- engine <- session <- faces
# (tests/layers.sh; tests/e2e/layers.sh shows it failing on injected back-edges).
layers: all
	@BUILD=$(BUILD) bash tests/layers.sh

unit: $(UNIT_BIN)
	@BUILD=$(BUILD) bash tests/run.sh unit

# The GPT-lab lessons that take minutes under the sanitizers (LoRA/QLoRA fine-tuning, GPTQ and
# AWQ on the whole model): make test plays them; under ASan tests/e2e/gpt.sh runs the same
# code in small runs, and lessons 21 and 23 sweep and quantize the model.
ASAN_SKIP_LESSONS = 20-perplexity-kl 22-lora-text 24-gptq-awq

asan: deps-check
	@$(MAKE) --no-print-directory -j2 BUILD=build-asan \
	    OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fopenmp -fsanitize=address,undefined" all \
	    $(UNIT_SRC:tests/unit/%.c=build-asan/tests/%)
	@BUILD=build-asan QSCOPE_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    QSCOPE_TEST_SKIP_LESSONS="$(ASAN_SKIP_LESSONS)" \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 bash tests/run.sh

bench: deps-check
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) bash tests/bench/run.sh

FUZZ_PKGS = clang libclang-rt-dev libomp-dev

fuzz:
	@bash .ci/deps.sh $(FUZZ_PKGS)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SEED=$(FUZZ_SEED) \
	    FUZZ_LIB_DIRS="$(LIB_DIRS)" bash tests/fuzz/run.sh

# CI only: installs Debian's chromium (never pulled by run, test or deps) and renders every
# lesson's `play --html` handout in it (.ci/handouts.sh).
ci-handouts: all
	@bash .ci/deps.sh chromium
	@BUILD=$(BUILD) bash .ci/handouts.sh

# CI only: the packages of ci-handouts and fuzz at once (.ci/run installs them in the
# background while the build and make test run)
ci-deps:
	@bash .ci/deps.sh chromium $(FUZZ_PKGS)

# ---- dependencies -------------------------------------------------------------------------
deps:
	@BUILD=$(BUILD) bash .ci/deps.sh $(DEB_PKGS)

deps-check:
	@$(PKG_CONFIG) --exists $(PKG_MODULES) 2>/dev/null && command -v tmux >/dev/null \
	    || $(MAKE) --no-print-directory deps

datasets:
	@bash .ci/deps.sh dataset-fashion-mnist bible-kjv fortunes
	@# the GPT lab's full corpus: the King James Bible as bible-kjv prints it (datasets/README.md)
	@[ -s datasets/kjv.txt ] || { PATH="$$PATH:/usr/games" bible -f Gen1:1-Rev22:21 \
	    > datasets/kjv.txt.tmp && mv datasets/kjv.txt.tmp datasets/kjv.txt; }

# ---- install ------------------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(DATADIR)/lessons $(DESTDIR)$(DATADIR)/datasets
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/qscope
	install -m 644 man/qscope.1 $(DESTDIR)$(MANDIR)/man1/qscope.1
	install -m 644 man/qscope-lesson.5 $(DESTDIR)$(MANDIR)/man5/qscope-lesson.5
	for f in lessons/*.lesson; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(DATADIR)/lessons/; done; true
	for f in datasets/*; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(DATADIR)/datasets/; done; true

clean:
	rm -rf build build-asan build-fuzz bench.json
