# Causeway — one flat, non-recursive Makefile (pkg-config).
#   make            build ./causeway
#   make check      build and run every test (unit, then end-to-end)
#   make unit       unit tests only        make e2e   end-to-end tests only
#   make run        local sandbox: Prosody + ngircd on loopback + Causeway
#   make check-asan       unit + e2e built with ASan+UBSan (part of make check)
#   make fuzz             libFuzzer harnesses, FUZZ_SECONDS each (make check: 20 s each)
#   make SANITIZE=1 ...   build with ASan+UBSan (separate build dir)

PKGS      := libstrophe glib-2.0 gio-2.0 sqlite3 libsodium gnutls
CC        ?= cc
BUILD     ?= build
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS  += -std=c11 -D_GNU_SOURCE -Iinclude -Igateway -Itransports
ifeq ($(SANITIZE),1)
BUILD     := build-asan
CFLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CORE_SRC  := $(filter-out gateway/main.c,$(wildcard gateway/*.c))
TRANS_SRC := $(wildcard transports/*/*.c)
CORE_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRC) $(TRANS_SRC))
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

CHECK_FUZZ_SECONDS ?= 20
EXE       := causeway$(if $(filter 1,$(SANITIZE)),-asan)

all: $(EXE)

causeway: $(BUILD)/gateway/main.o $(BUILD)/libcauseway.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm
causeway-asan: $(BUILD)/gateway/main.o $(BUILD)/libcauseway.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/libcauseway.a: $(CORE_OBJ)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DCW_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcauseway.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DCW_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libcauseway.a $(LDFLAGS) $(PKG_LIBS) -lm

deps:
	@scripts/install-deps.sh

unit: deps $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

e2e: deps $(EXE)
	@CAUSEWAY_BIN=$(CURDIR)/$(EXE) scripts/run-e2e.sh

# The same suites built with ASan+UBSan (LeakSanitizer included): any report fails.
check-asan: deps
	$(MAKE) SANITIZE=1 all
	$(MAKE) SANITIZE=1 unit
	$(MAKE) SANITIZE=1 e2e

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) check-asan
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)

run: deps causeway
	@scripts/sandbox.sh

# Unit tests under valgrind memcheck (definite leaks and errors fail).
valgrind: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite $$t --tap >/dev/null \
	    && echo "valgrind clean: $$t" || { echo "valgrind FAILED: $$t"; exit 1; }; done

format:
	clang-format -i gateway/*.[ch] transports/*/*.[ch] include/causeway/*.h tests/unit/*.c

clean:
	rm -rf build build-asan causeway causeway-asan

.PHONY: all deps unit e2e check check-asan valgrind run format clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- fuzz: libFuzzer harnesses (tests/fuzz/fuzz-*.c), built with clang ----
#   make fuzz                    build every harness and run each for FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=5     shorter run      make fuzz-build   build only
#   make fuzz FUZZ_TARGETS=jid   some harnesses   make fuzz-clean   remove build-fuzz/
# Objects, binaries, the working corpus (a copy of tests/fuzz/corpus/, never
# written back) and crash artifacts all live in build-fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_BUILD   := build-fuzz
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(CORE_SRC) $(TRANS_SRC))
FUZZ_BIN     := $(patsubst %,$(FUZZ_BUILD)/fuzz-%,$(FUZZ_TARGETS))
# What one harness needs beyond libcauseway: FUZZ_LIBS_<area> (flags and libs).
# irc-path checks the component stream with expat (libstrophe's own parser).
FUZZ_LIBS_irc-path := $(shell pkg-config --cflags --libs expat 2>/dev/null || echo -lexpat)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -DCW_VERSION='"$(VERSION)"' $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libcauseway.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz-common.h $(FUZZ_BUILD)/libcauseway.a
	$(FUZZ_CC) $(CPPFLAGS) -DCW_VERSION='"$(VERSION)"' $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_BUILD)/libcauseway.a $(FUZZ_LIBS_$*) $(PKG_LIBS) -lm

fuzz-build: $(FUZZ_BIN)

# Each harness runs even when an earlier one failed; the summary decides.
fuzz: fuzz-build
	@rm -rf $(FUZZ_BUILD)/results
	@for t in $(FUZZ_TARGETS); do \
	  tests/fuzz/run-fuzz.sh $$t $(FUZZ_SECONDS) $(FUZZ_BUILD); done
	@tests/fuzz/run-fuzz.sh --summary $(FUZZ_BUILD)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

.PHONY: fuzz fuzz-build fuzz-clean
-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

# Side-by-side benchmarks against biboumi (tests/bench/bench.py documents the
# BENCH_* settings). Builds what it needs; biboumi is installed on demand by
# tests/bench/ensure-biboumi.sh, so make check does not need it.
BENCH_DRIVER := build/bench/xmppdriver
$(BENCH_DRIVER): tests/bench/xmppdriver.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -g $(shell pkg-config --cflags glib-2.0) -o $@ $< $(shell pkg-config --libs glib-2.0)

bench: deps causeway $(BENCH_DRIVER)
	@CAUSEWAY_BIN=$(CURDIR)/causeway BENCH_DRIVER=$(CURDIR)/$(BENCH_DRIVER) /usr/bin/python3 tests/bench/bench.py

.PHONY: bench

# Soak test (not part of make check): SOAK_USERS XMPP users join, talk in and
# leave IRC channels on a real ngIRCd for SOAK_MINUTES through ./causeway
# (tests/soak/soak.py plays the XMPP server); fails if causeway's RSS grows
# more than 20 % after the first minute or its open fds grow.
#   make soak SOAK_USERS=100 SOAK_MINUTES=2
SOAK_USERS   ?= 500
SOAK_MINUTES ?= 10
soak: deps causeway
	@CAUSEWAY_BIN=$(CURDIR)/causeway SOAK_USERS=$(SOAK_USERS) SOAK_MINUTES=$(SOAK_MINUTES) /usr/bin/python3 tests/soak/soak.py

.PHONY: soak
