# slmbench — build, demo, tests.
#
#   make            install missing Debian packages and llama.cpp, build build/slmbench
#                   and the engine plugins build/engines/<name>.so
#   make demo       build the demo models, run the demo comparison, write the report
#   make demo-models  only the demo models bench/demo.yaml evaluates (build/demo/models/)
#   make check      build and run every test; ends with "N passed, N failed"
#   make bench      benchmarks of slmbench itself (bench/perf/); BENCH_ONLY=NAME one part
#                   (names in bench/perf/run.sh: overhead, labels, shapes, many, ...)
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS (60) each (tests/fuzz/; needs clang)
#   make SANITIZE=address,undefined check    the same tests under the sanitizers
#   make docs       the man pages build/man/*.1 and the bash completion build/completion/slmbench,
#                   generated from the option tables (slmbench man, slmbench completion bash)
#   make install PREFIX=/usr/local DESTDIR=    the program, the engine plugins, the man pages
#                   and the bash completion
#
# Respects CC, CFLAGS, CPPFLAGS, LDFLAGS, PREFIX, DESTDIR; V=1 shows the commands.

CC ?= cc
PREFIX ?= /usr/local
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
SANITIZE ?=

ifeq ($(SANITIZE),)
OUT := build
else
OUT := build/sanitize
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

THIRD := build/third_party
LLAMA_DIR := $(THIRD)/llama
DEPS_STAMP := build/.deps-stamp

# Evaluated when a recipe runs (after the dependencies are installed), not when parsed.
PKGS = sqlite3 yaml-0.1 jansson papi libcurl libcrypto
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lcsv
# `slmbench view`'s web server, optional: built without it, view says how to get it.
MHD_CFLAGS = $(if $(shell $(PKG_CONFIG) --exists libmicrohttpd 2>/dev/null && echo 1),-DSLM_HAVE_MHD $(shell $(PKG_CONFIG) --cflags libmicrohttpd))
MHD_LIBS = $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)
LLAMA_SYSTEM = $(shell $(PKG_CONFIG) --exists llama 2>/dev/null && echo 1)
LLAMA_LIBDIR = $(if $(LLAMA_SYSTEM),$(shell $(PKG_CONFIG) --variable=libdir llama),$(abspath $(LLAMA_DIR)/lib))
LLAMA_CFLAGS = $(if $(LLAMA_SYSTEM),-DSLM_HAVE_LLAMA_H $(shell $(PKG_CONFIG) --cflags llama))
# The pinned CUDA build's folder (install-deps.sh fills it only where an NVIDIA driver is).
LLAMA_CUDADIR = $(if $(LLAMA_SYSTEM),,$(abspath $(LLAMA_DIR)-cuda/lib))

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The core library's rooms, in the order data flows (README "Layout"); the CLI sits on top.
SRC_DIRS := harness/common harness/input harness/models harness/run harness/store \
            harness/metrics reports
INC_FLAGS := $(addprefix -I,$(SRC_DIRS) harness/cli) -Iengines
ALL_CFLAGS = -DSLM_GIT_REV='"$(GIT_REV)"' -std=c11 -D_GNU_SOURCE -fPIC $(WARN) $(INC_FLAGS) $(PKG_CFLAGS) \
             $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

CLI_SRCS := $(wildcard harness/cli/*.c)
CORE_SRCS := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(OUT)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(OUT)/obj/%.o)
CORE_LIB := $(OUT)/libslmcore.a

ENGINES := $(notdir $(patsubst %/,%,$(dir $(wildcard engines/*/*.c))))
ENGINE_SOS := $(foreach e,$(sort $(ENGINES)),$(OUT)/engines/$(e).so)

# tests/unit: the core's modules; tests/engines: the engine plugins through the ABI;
# tests/fuzz: hostile inputs through every parser (plain programs, cmocka-style output).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
ENGINE_TEST_SRCS := $(wildcard tests/engines/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/tests/%) $(ENGINE_TEST_SRCS:tests/engines/%.c=$(OUT)/tests/%) \
             $(FUZZ_SRCS:tests/fuzz/%.c=$(OUT)/tests/%)
# tests/fuzz/fuzz_<t>.c: libFuzzer targets (make fuzz, below); make check links each with
# tests/fuzz/replay_main.c and the normal CC as $(OUT)/tests/test_fuzz_<t>, which replays
# tests/fuzz/corpus/<t>/ and tests/fuzz/crashes/<t>/.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY_BINS := $(FUZZ_TARGETS:%=$(OUT)/tests/test_fuzz_%)
# tests/helpers/fake_*.c are shared libraries standing in for real ones (fake_llama.c:
# a libllama with the wrong ABI); the other helpers are programs.
TEST_LIB_SRCS := $(wildcard tests/helpers/fake_*.c)
TEST_LIBS := $(TEST_LIB_SRCS:tests/helpers/%.c=$(OUT)/tests/lib%.so)
TEST_HELPER_SRCS := $(filter-out $(TEST_LIB_SRCS),$(wildcard tests/helpers/*.c))
TEST_HELPER_BINS := $(TEST_HELPER_SRCS:tests/helpers/%.c=$(OUT)/tests/%)
# tests/server/*.c: programs the CLI tests talk to over HTTP (slm_test_server, an
# OpenAI-compatible server running the llamacpp plugin), linked with the core library.
TEST_SERVER_SRCS := $(wildcard tests/server/*.c)
TEST_SERVER_BINS := $(TEST_SERVER_SRCS:tests/server/%.c=$(OUT)/tests/%)

.PHONY: all deps demo demo-models check test bench clean install distclean docs
all: $(OUT)/slmbench $(ENGINE_SOS)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	$(Q)mkdir -p build
	$(Q)sh scripts/install-deps.sh $(LLAMA_DIR) $(THIRD)/tokenizers
	$(Q)touch $@

$(OUT)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/obj/harness/cli/cmd_view.o: ALL_CFLAGS += $(MHD_CFLAGS)
$(OUT)/slmbench: $(CLI_OBJS) $(CORE_LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(CORE_LIB) $(PKG_LIBS) $(MHD_LIBS) -ldl -lm -lpthread

# Each engine: engines/<name>/*.c -> $(OUT)/engines/<name>.so, built as a third party
# would: only engines/ on the include path (slm_engine.h, slm_plugin.h) and none of the
# core library. Never linked with llama.cpp either: the llamacpp engine dlopen()s it at run
# time so a missing or mismatching library disables only it.
PLUGIN_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC $(WARN) -Iengines $(PKG_CFLAGS) $(CPPFLAGS) \
                $(CFLAGS) $(SAN_FLAGS) -MMD -MP
define ENGINE_RULE
$(OUT)/obj/engines/$(1)/%.o: engines/$(1)/%.c | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC      $$<")
	$$(Q)$$(CC) $$(PLUGIN_CFLAGS) $$(LLAMA_CFLAGS) -DSLM_LLAMA_LIBDIR='"$$(LLAMA_LIBDIR)"' \
	    -DSLM_LLAMA_CUDADIR='"$$(LLAMA_CUDADIR)"' -c $$< -o $$@
$(OUT)/engines/$(1).so: $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard engines/$(1)/*.c))
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK    $$@")
	$$(Q)$$(CC) -shared $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(PKG_LIBS) -ldl -lm -lpthread
endef
$(foreach e,$(sort $(ENGINES)),$(eval $(call ENGINE_RULE,$(e))))

$(OUT)/tests/%: tests/unit/%.c $(CORE_LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) -lcmocka -ldl -lm -lpthread

$(OUT)/tests/%: tests/engines/%.c $(CORE_LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/engines $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) -lcmocka -ldl -lm -lpthread

$(OUT)/tests/%: tests/fuzz/%.c $(CORE_LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) -ldl -lm -lpthread

# fuzz_http.c includes engines/openai/openai.c (its parsers are static there)
$(FUZZ_REPLAY_BINS): $(OUT)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c \
                     tests/fuzz/fuzz_target.h engines/openai/openai.c $(CORE_LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (replay)")
	$(Q)$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -DFUZZ_TARGET='"$*"' $< tests/fuzz/replay_main.c \
	    -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) -ldl -lm -lpthread

$(OUT)/tests/%: tests/helpers/%.c $(CORE_LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) -ldl -lm -lpthread

$(OUT)/tests/%: tests/server/%.c $(CORE_LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) -ldl -lm -lpthread

# Engines again, with slm_plugin.h's allocation-failure hook compiled in
# (SLM_PLUGIN_FAIL_ALLOC=N fails the Nth allocation): out of memory as an error.
FAULT_ENGINES := replay exec openai llamacpp
FAULT_SOS := $(FAULT_ENGINES:%=$(OUT)/tests/faults/%.so)
define FAULT_RULE
$(OUT)/tests/faults/$(1).so: $(wildcard engines/$(1)/*.c) $(wildcard engines/*.h) | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC      engines/$(1) (faults)")
	$$(Q)$$(CC) $$(PLUGIN_CFLAGS) $$(LLAMA_CFLAGS) -DSLM_LLAMA_LIBDIR='"$$(LLAMA_LIBDIR)"' \
	    -DSLM_LLAMA_CUDADIR='"$$(LLAMA_CUDADIR)"' -DSLM_PLUGIN_FAULTS -shared $$(filter %.c,$$^) \
	    -o $$@ $$(ALL_LDFLAGS) $$(PKG_LIBS) -ldl -lm -lpthread
endef
$(foreach e,$(FAULT_ENGINES),$(eval $(call FAULT_RULE,$(e))))

$(OUT)/tests/lib%.so: tests/helpers/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -shared $< -o $@ $(ALL_LDFLAGS)

DEMO_DIR := build/demo
demo: all
	$(Q)sh bench/demo.sh $(OUT)/slmbench $(DEMO_DIR)

# The models bench/demo.yaml evaluates, alone (the CI examples in docs/ci/ run it).
demo-models: all
	$(Q)sh bench/models/demo-models.sh $(OUT)/slmbench $(DEMO_DIR)/models

check: all $(UNIT_BINS) $(FUZZ_REPLAY_BINS) $(TEST_HELPER_BINS) $(TEST_SERVER_BINS) $(TEST_LIBS) $(FAULT_SOS)
	$(Q)OUT=$(OUT) SANITIZE=$(SANITIZE) sh tests/run.sh

test: check

# Benchmark programs: bench/perf/<name>.c -> $(OUT)/bench/<name>, on the core library;
# they know where the engine finds llama.cpp (bench_shapes calls it directly too).
BENCH_SRCS := $(wildcard bench/perf/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/perf/%.c=$(OUT)/bench/%)

$(OUT)/bench/%: bench/perf/%.c $(CORE_LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(LLAMA_CFLAGS) -DSLM_LLAMA_LIBDIR='"$(LLAMA_LIBDIR)"' $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) -ldl -lm -lpthread

bench: all $(BENCH_BINS) $(TEST_SERVER_BINS)
	$(Q)sh bench/perf/run.sh $(OUT)/slmbench $(OUT)

# ---- fuzzing (README "Fuzzing") ------------------------------------------------------
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="http gguf"]   each target N s (default 60),
#       one after another; clang's libFuzzer with ASan and UBSan; what a run finds is merged
#       into tests/fuzz/corpus/<t>/ (FUZZ_MERGE=0: not); summary in build/fuzz/summary.txt
#   make fuzz-seeds    refresh the seed inputs from the fixtures (tests/fuzz/seeds.sh)
# clang and llvm's tools are installed by scripts/install-deps.sh --fuzz when missing. The
# core is built twice more: for libFuzzer (build/fuzz/lib) and with coverage counters
# (build/fuzz/cov, the replay driver on the corpus, for the line coverage of each parser).
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_DEPS_STAMP := build/.fuzz-deps-stamp
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BASE = -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) $(INC_FLAGS) $(PKG_CFLAGS) $(CPPFLAGS)

$(FUZZ_DEPS_STAMP): scripts/install-deps.sh
	$(Q)mkdir -p build
	$(Q)sh scripts/install-deps.sh --fuzz
	$(Q)touch $@

# $(1): the flavour's folder; $(2): compile flags; $(3): what a target links besides
define FUZZ_FLAVOUR
$(FUZZ_DIR)/$(1)/obj/%.o: %.c | $(DEPS_STAMP) $(FUZZ_DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CLANG   $$< ($(1))")
	$$(Q)$$(FUZZ_CC) $$(FUZZ_BASE) $(2) -c $$< -o $$@
$(FUZZ_DIR)/$(1)/libslmcore.a: $(CORE_SRCS:%.c=$(FUZZ_DIR)/$(1)/obj/%.o)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
$(FUZZ_DIR)/$(1)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_target.h tests/fuzz/replay_main.c \
                         engines/openai/openai.c $(FUZZ_DIR)/$(1)/libslmcore.a
	@$$(if $$(Q),echo "  CLANG   $$< ($(1))")
	$$(Q)$$(FUZZ_CC) $$(FUZZ_BASE) $(2) -DFUZZ_TARGET='"$$*"' $$< $(3) -o $$@ \
	    $(FUZZ_DIR)/$(1)/libslmcore.a $$(PKG_LIBS) -ldl -lm -lpthread
endef
$(eval $(call FUZZ_FLAVOUR,lib,-fsanitize=fuzzer-no-link $(FUZZ_SAN),-fsanitize=fuzzer $(FUZZ_SAN)))
$(eval $(call FUZZ_FLAVOUR,cov,-fprofile-instr-generate -fcoverage-mapping,tests/fuzz/replay_main.c))

.PHONY: fuzz fuzz-build fuzz-seeds
fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/lib/fuzz_%) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/cov/fuzz_%)

fuzz: fuzz-build
	$(Q)FUZZ_CC=$(FUZZ_CC) sh tests/fuzz/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-seeds: $(OUT)/slmbench
	$(Q)sh tests/fuzz/seeds.sh $(OUT)/slmbench

# The man pages (slmbench.1 and one slmbench-CMD.1 per command) and the bash completion,
# written by the program from its option tables; remade whenever the program is.
DOCS_STAMP := $(OUT)/man/.stamp
docs: $(DOCS_STAMP) $(OUT)/completion/slmbench
$(DOCS_STAMP): $(OUT)/slmbench
	@$(if $(Q),echo "  MAN     $(OUT)/man/")
	$(Q)rm -rf $(OUT)/man && mkdir -p $(OUT)/man
	$(Q)$(OUT)/slmbench man >$(OUT)/man/slmbench.1
	$(Q)for c in $$($(OUT)/slmbench man --list); do \
	    $(OUT)/slmbench man $$c >$(OUT)/man/slmbench-$$c.1 || exit 1; done
	$(Q)touch $@
$(OUT)/completion/slmbench: $(OUT)/slmbench
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(OUT)/slmbench completion bash >$@.tmp && mv $@.tmp $@

# The engines go where the program looks for them (<bin>/../lib/slmbench/engines).
install: all docs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/slmbench/engines \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(OUT)/slmbench $(DESTDIR)$(PREFIX)/bin/slmbench
	install -m 644 $(ENGINE_SOS) $(DESTDIR)$(PREFIX)/lib/slmbench/engines/
	install -m 644 $(OUT)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(OUT)/completion/slmbench \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/slmbench

clean:
	rm -rf build/obj build/sanitize build/tests build/engines build/slmbench build/libslmcore.a build/demo build/fuzz \
	    build/man build/completion

distclean:
	rm -rf build

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)
