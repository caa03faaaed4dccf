# Causeway — one flat, non-recursive Makefile (pkg-config).
#   make            build ./causeway
#   make run        local sandbox: Prosody + ngIRCd + an IRC demo bot on loopback, Causeway
#                   with the IRC and loopback transports (scripts/sandbox.sh)
#   make check      build and run every test (unit, end-to-end, ASan+UBSan, fuzz)
#   make unit       unit tests only        make e2e   end-to-end tests only
#   make check-asan       unit + e2e built with ASan+UBSan (part of make check)
#   make fuzz             libFuzzer harnesses, FUZZ_SECONDS each (make check: 20 s each)
#   make valgrind         unit tests under valgrind memcheck
#   make bench            side-by-side benchmark against biboumi     make soak   soak test
#   make bench-e2e        the same with Prosody in the path (raw c2s users; tests/bench/bench-e2e.py)
#   make bench-sms        the sms transport against Kannel's own ceiling (MT and MO; printed figures)
#   make bench-purple     the purple transport (prpl-jabber) beside BitlBee (libpurple) and libpurple's
#                         own floor on one legacy Prosody: RSS, login storm, messages/s (printed figures)
#   make SANITIZE=1 ...   build with ASan+UBSan (separate build dir)
#   make deps             install the test profile's packages (DEPS_PROFILE=run|build|bench for others)
#   make install          install into PREFIX (/usr/local): binary, causeway(8), causeway.conf(5),
#                         systemd units, examples; SYSCONFDIR (PREFIX/etc, /etc when PREFIX=/usr)
#                         gets causeway/causeway.conf unless it exists; DESTDIR for staging
#   make uninstall        remove what make install put there, except the configuration
#   make check-install    install into a DESTDIR and check the tree, systemd-analyze verify and
#                         security, build the .deb (lintian), install it into a scratch root and
#                         run its unit's ExecStart against Prosody (part of make check)
#   make deb              build ../causeway_VERSION_ARCH.deb with dpkg-buildpackage -us -uc -b
#   make clean            remove build output (installs nothing, like make help)

PKGS      := libstrophe glib-2.0 gio-2.0 sqlite3 libsodium gnutls libsoup-3.0 purple
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
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# ---- dependencies: installed before anything reads pkg-config ----
# PKG_CFLAGS and PKG_LIBS come from a generated makefile, build/deps/PROFILE.mk,
# that is included below. GNU make first brings every included makefile up to
# date, and only then reads the Makefile again and starts on the goals: so its
# rule (scripts/install-deps.sh PROFILE, then pkg-config into the file) runs
# once, alone, before any compile, also under -j, and a fresh machine's first
# `make run` compiles with the flags of the libraries it just installed; as
# make reads everything again after remaking the file, even a $(shell
# pkg-config ...) elsewhere in this Makefile sees the installed packages. A
# prerequisite `deps` could not do this: make expands := and $(shell) when it
# parses the Makefile, before any prerequisite has run, and under -j the
# compiles would not wait for it.
# The profile (scripts/install-deps.sh says what each holds) is the largest
# any goal needs: bench > test (check, unit, e2e, fuzz, valgrind, soak, bench-sms) > run >
# build (everything else). It is exported, so the sub-makes of `make check`
# use the parent's file. The file depends on the Makefile and install-deps.sh:
# when they change, the (then quick) check runs again. Goals that need no
# libraries (clean, fuzz-clean, help, format, deps) include nothing and install
# nothing; neither does a dry run (make -n), which reads pkg-config as is.
.DEFAULT_GOAL := all
NODEPS_GOALS := clean fuzz-clean help format deps uninstall
TEST_GOALS   := check check-asan check-install unit e2e fuzz fuzz-build valgrind soak bench-sms deps
goal_profile  = $(if $(filter bench bench-e2e,$(1)),bench,$(if $(filter $(TEST_GOALS),$(1)),test,$(if $(filter run,$(1)),run,build)))
DEPS_PROFILE ?= $(call goal_profile,$(or $(MAKECMDGOALS),all))
export DEPS_PROFILE
DEPS_MK      := build/deps/$(DEPS_PROFILE).mk
DRY_RUN      := $(findstring n,$(firstword -$(MAKEFLAGS)))
# NODEPS=1 (debian/rules: Build-Depends installed them) reads pkg-config as
# is and installs nothing, as a dry run does.
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(DRY_RUN)$(NODEPS),)
include $(DEPS_MK)
else
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
endif
endif

$(DEPS_MK): Makefile scripts/install-deps.sh
	@scripts/install-deps.sh $(DEPS_PROFILE)
	@mkdir -p $(@D)
	@cflags=$$(pkg-config --cflags $(PKGS)) && libs=$$(pkg-config --libs $(PKGS)) && \
	  printf '# generated by make from pkg-config after scripts/install-deps.sh $(DEPS_PROFILE)\nPKG_CFLAGS := %s\nPKG_LIBS := %s\n' \
	    "$$cflags" "$$libs" > $@.tmp && mv $@.tmp $@

deps:
	@scripts/install-deps.sh $(DEPS_PROFILE)

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

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

e2e: $(EXE)
	@CAUSEWAY_BIN=$(CURDIR)/$(EXE) scripts/run-e2e.sh

# The same suites built with ASan+UBSan (LeakSanitizer included): any report fails.
check-asan:
	$(MAKE) SANITIZE=1 all
	$(MAKE) SANITIZE=1 unit
	$(MAKE) SANITIZE=1 e2e

check:
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) check-asan
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) check-install

# The build's few hundred compiler lines go to build/build.log (shown when it
# fails), so a first run prints a few lines of progress, then the banner.
run:
	@mkdir -p build && echo "make run: building ./causeway (compiler output in build/build.log)"
	@$(MAKE) --no-print-directory causeway > build/build.log 2>&1 || \
	  { tail -n 25 build/build.log; echo "make run: the build failed (all of it: build/build.log)"; exit 1; }
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

help:
	@sed -n '2,/^$$/p' Makefile | sed -e '/^$$/d' -e 's/^# \{0,1\}//'

.PHONY: all deps unit e2e check check-asan valgrind run format clean help

# ---- install ----
# GNU-style directories; SYSCONFDIR is /etc for a system install (PREFIX=/usr,
# the Debian package) and PREFIX/etc otherwise. The units are installed with
# ExecStart= and the config path rewritten to BINDIR and SYSCONFDIR.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATAROOTDIR ?= $(PREFIX)/share
MANDIR      ?= $(DATAROOTDIR)/man
DOCDIR      ?= $(DATAROOTDIR)/doc/causeway
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
# systemd searches /usr/local/lib/systemd/system too; bookworm's own units are in /lib.
UNITDIR     ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/sysusers.d,$(PREFIX)/lib/sysusers.d)
INSTALL     ?= install
EXAMPLES    := conf/causeway.conf conf/prosody-causeway.cfg.lua conf/ejabberd-causeway.yml \
               conf/kannel.conf conf/grafana-causeway.json
UNITS       := conf/causeway.service conf/causeway@.service
MAN_SRC     := man/causeway.8 man/causeway.conf.5

SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
            -e 's|@UNITDIR@|$(UNITDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g'
# ConfigurationDirectory= can only name a directory under /etc.
UNIT_SUBST = sed -e 's|/usr/local/bin/causeway|$(BINDIR)/causeway|g' \
                 -e 's|/etc/causeway/|$(SYSCONFDIR)/causeway/|g' \
                 $(if $(filter /etc,$(SYSCONFDIR)),,-e 's|^ConfigurationDirectory=.*|\# ConfigurationDirectory= names /etc only; the configuration is in $(SYSCONFDIR)/causeway|' -e '/^ConfigurationDirectoryMode=/d')

build/man/%: man/% VERSION Makefile
	@mkdir -p $(@D)
	$(SUBST) $< > $@.tmp && mv $@.tmp $@

man: $(patsubst man/%,build/man/%,$(MAN_SRC))

install: causeway man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 0755 causeway $(DESTDIR)$(BINDIR)/causeway
	$(INSTALL) -m 0644 build/man/causeway.8 $(DESTDIR)$(MANDIR)/man8/causeway.8
	$(INSTALL) -m 0644 build/man/causeway.conf.5 $(DESTDIR)$(MANDIR)/man5/causeway.conf.5
	for u in $(UNITS); do \
	  $(UNIT_SUBST) $$u > $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
	  mv $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	$(INSTALL) -m 0644 conf/causeway.sysusers $(DESTDIR)$(SYSUSERSDIR)/causeway.conf
	$(INSTALL) -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	@# The configuration holds the component secrets: 0750/0640, group causeway
	@# when that group exists (the package's postinst sets it); an existing file
	@# is the admin's and stays as it is.
	$(INSTALL) -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/causeway
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/causeway/causeway.conf ]; then \
	  echo "install: keeping the existing $(DESTDIR)$(SYSCONFDIR)/causeway/causeway.conf"; \
	else \
	  echo "$(INSTALL) -m 0640 conf/causeway.conf $(DESTDIR)$(SYSCONFDIR)/causeway/causeway.conf"; \
	  $(INSTALL) -m 0640 conf/causeway.conf $(DESTDIR)$(SYSCONFDIR)/causeway/causeway.conf || exit 1; fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && getent group causeway >/dev/null; then \
	  chgrp causeway $(SYSCONFDIR)/causeway $(SYSCONFDIR)/causeway/causeway.conf; \
	elif [ -z "$(DESTDIR)" ]; then \
	  echo "install: next, as root: systemd-sysusers $(SYSUSERSDIR)/causeway.conf &&" \
	    "chgrp causeway $(SYSCONFDIR)/causeway $(SYSCONFDIR)/causeway/causeway.conf"; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/causeway $(DESTDIR)$(MANDIR)/man8/causeway.8 \
	  $(DESTDIR)$(MANDIR)/man5/causeway.conf.5 $(DESTDIR)$(UNITDIR)/causeway.service \
	  $(DESTDIR)$(UNITDIR)/causeway@.service $(DESTDIR)$(SYSUSERSDIR)/causeway.conf
	rm -f $(patsubst conf/%,$(DESTDIR)$(DOCDIR)/examples/%,$(EXAMPLES))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null
	@echo "uninstall: kept $(DESTDIR)$(SYSCONFDIR)/causeway (your configuration), the causeway user and its data_dir"

# The Debian package (debian/), from a copy of the tracked files in build/deb so
# the package build's clean never touches this tree: build/deb/causeway_*.deb.
deb:
	@scripts/build-deb.sh build/deb

check-install: causeway
	@scripts/check-install.sh

.PHONY: man install uninstall deb check-install
# (not build/deb: the package build's copy of this tree, whose sysusers.d is a directory)
-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)

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
	$(CC) $(CPPFLAGS) $(WARN) -O2 -g $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench: causeway $(BENCH_DRIVER)
	@CAUSEWAY_BIN=$(CURDIR)/causeway BENCH_DRIVER=$(CURDIR)/$(BENCH_DRIVER) /usr/bin/python3 tests/bench/bench.py

.PHONY: bench

# End to end with Prosody in the path (tests/bench/bench-e2e.py documents the
# E2E_* settings): raw c2s users (tests/bench/e2edriver.c) -> Prosody -> the
# gateway -> ngIRCd, Causeway and biboumi side by side. A benchmark, not a test:
# never part of make check.
E2E_DRIVER := build/bench/e2edriver
$(E2E_DRIVER): tests/bench/e2edriver.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -g $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench-e2e: causeway $(E2E_DRIVER)
	@CAUSEWAY_BIN=$(CURDIR)/causeway E2E_DRIVER=$(CURDIR)/$(E2E_DRIVER) /usr/bin/python3 tests/bench/bench-e2e.py

.PHONY: bench-e2e

# The sms transport against Kannel's own ceiling, MT and MO (tests/bench/sms-bench.py
# documents the SMS_BENCH_* settings; Kannel comes with the test profile). Printed
# figures, not a timed test: not part of make check.
build/bench/httpsink: tests/bench/httpsink.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -D_GNU_SOURCE -o $@ $<

bench-sms: causeway build/bench/httpsink
	@CAUSEWAY_BIN=$(CURDIR)/causeway SMS_BENCH_SINK=$(CURDIR)/build/bench/httpsink /usr/bin/python3 tests/bench/sms-bench.py

.PHONY: bench-sms

# The purple transport beside BitlBee (bitlbee-libpurple) and libpurple's own floor
# (tests/bench/purple-floor.c) on one legacy Prosody (tests/bench/purple-bench.py
# documents the PURPLE_BENCH_* settings). Printed figures, not part of make check.
build/bench/purple-floor: tests/bench/purple-floor.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -g $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench-purple: causeway build/bench/purple-floor
	@CAUSEWAY_BIN=$(CURDIR)/causeway PURPLE_FLOOR=$(CURDIR)/build/bench/purple-floor /usr/bin/python3 tests/bench/purple-bench.py

.PHONY: bench-purple

# SMS store throughput on a real file (not part of make check):
#   make sms-store-bench [SMS_BENCH_DIR=/tmp]
sms-store-bench: tests/bench/sms-store-bench.c $(BUILD)/libcauseway.a
	@mkdir -p $(BUILD)/bench
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -o $(BUILD)/bench/$@ $< $(BUILD)/libcauseway.a $(LDFLAGS) $(PKG_LIBS) -lm
	$(BUILD)/bench/$@ $(SMS_BENCH_DIR)

.PHONY: sms-store-bench

# Soak test (not part of make check): SOAK_USERS XMPP users join, talk in and
# leave IRC channels on a real ngIRCd for SOAK_MINUTES through ./causeway
# (tests/soak/soak.py plays the XMPP server); fails if causeway's RSS grows
# more than 20 % after the first minute or its open fds grow.
#   make soak SOAK_USERS=100 SOAK_MINUTES=2
SOAK_USERS   ?= 500
SOAK_MINUTES ?= 10
soak: causeway
	@CAUSEWAY_BIN=$(CURDIR)/causeway SOAK_USERS=$(SOAK_USERS) SOAK_MINUTES=$(SOAK_MINUTES) /usr/bin/python3 tests/soak/soak.py

.PHONY: soak
