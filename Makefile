# loadgen: a load-testing harness for ML scoring endpoints.
# Non-recursive: every module under harness/ is picked up by wildcard, so a
# new module needs no edit here. Objects go to obj/<variant>/.

PREFIX  ?= /usr/local
# The release (VERSION, semantic versioning) and the commit it was built from.
VERSION := $(shell cat VERSION)
BUILD   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
PKGS    := libcurl libuv libcjson libprotobuf-c libnghttp2
LIBS_EXTRA := -lhttp_parser -ljpeg -lpthread -lm

# Dependencies are installed on demand: a fresh Debian machine needs only make.
ifeq ($(filter clean help,$(MAKECMDGOALS)),)
DEPS_OK := $(shell pkg-config --exists $(PKGS) cmocka 2>/dev/null && test -f /usr/include/http_parser.h && test -f /usr/include/jpeglib.h && \
             command -v protoc-c >/dev/null && command -v h2load >/dev/null && \
             test -d /usr/lib/python3/dist-packages/grpc_tools && test -d /usr/lib/python3/dist-packages/grpc && echo yes)
ifneq ($(DEPS_OK),yes)
$(info loadgen: build dependencies missing; running scripts/install-deps.sh)
DEPS_RC := $(shell scripts/install-deps.sh >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error scripts/install-deps.sh failed (exit $(DEPS_RC)); run it by hand and retry)
endif
endif
endif

CC      ?= cc
# CFLAGS/LDFLAGS stay the user's (e.g. CFLAGS=-O0); SAN adds sanitizers.
CFLAGS  ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(SAN) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
           -DLOADGEN_VERSION='"$(VERSION)"' -DLOADGEN_BUILD='"$(BUILD)"' -DLOADGEN_DATADIR='"$(PREFIX)/share/loadgen"' \
           -Iharness $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_LDFLAGS := $(LDFLAGS) $(SAN)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(LIBS_EXTRA)

VARIANT ?= release
OBJDIR  := obj/$(VARIANT)
SRC     := $(sort $(wildcard harness/*.c harness/analyze/*.c harness/serve/*.c))
LIBSRC  := $(filter-out harness/main.c,$(SRC))
# The services' .proto files (proto/README.md) become C through protoc-c, in
# obj/<variant>/gen/, never committed; their objects join libloadgen.a.
PROTOS  := $(sort $(wildcard proto/*.proto proto/*/*.proto proto/*/*/*.proto proto/*/*/*/*.proto))
GENDIR  := $(OBJDIR)/gen
ALL_CFLAGS += -I$(GENDIR)
GENC    := $(PROTOS:proto/%.proto=$(GENDIR)/%.pb-c.c)
GENH    := $(GENC:.c=.h)
GENOBJ  := $(GENC:.c=.o)
LIBOBJ  := $(LIBSRC:%.c=$(OBJDIR)/%.o) $(GENOBJ)
TESTSRC := $(sort $(wildcard tests/unit/test_*.c))
TESTBIN := $(TESTSRC:tests/unit/%.c=$(OBJDIR)/tests/%)
# The fuzz targets, built with their replay main: make test runs each over
# its seed corpus (crashes found once stay fixed).
FUZZSRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZBIN := $(FUZZSRC:tests/fuzz/%.c=$(OBJDIR)/fuzz/%)

ifeq ($(VARIANT),release)
BIN := loadgen
else
BIN := $(OBJDIR)/loadgen
endif

Q := @
ifeq ($(V),1)
Q :=
endif

.PHONY: all gen test unit demo bench asan ubsan valgrind fuzz soak e2e install clean help
all: $(BIN)

# The C of proto/, for scripts/fuzz.sh.
gen: $(GENC) $(GENH)

$(BIN): $(OBJDIR)/harness/main.o $(OBJDIR)/libloadgen.a
	@echo "  LD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(OBJDIR)/libloadgen.a: $(LIBOBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

# The commit that -V names: a stamp rewritten only when `git describe`
# changes, so that cli.o, which prints it, is rebuilt then and only then.
BUILD_STAMP := $(OBJDIR)/build-id
ifeq ($(filter clean help,$(MAKECMDGOALS)),)
$(shell mkdir -p $(OBJDIR) && { [ "$$(cat $(BUILD_STAMP) 2>/dev/null)" = "$(BUILD)" ] || echo "$(BUILD)" >$(BUILD_STAMP); })
endif
$(OBJDIR)/harness/cli.o: $(BUILD_STAMP)

$(OBJDIR)/%.o: %.c $(wildcard harness/*.h harness/analyze/*.h harness/serve/*.h) $(GENH) VERSION
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

.SECONDARY: $(GENC) $(GENH)
# One protoc-c run writes both the .c and the .h of a file.
$(GENDIR)/%.pb-c.c $(GENDIR)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GENDIR)
	@echo "  PROTO $<"
	$(Q)protoc-c --proto_path=proto --c_out=$(GENDIR) $<

$(GENDIR)/%.pb-c.o: $(GENDIR)/%.pb-c.c $(GENH)
	@echo "  CC    $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJDIR)/tests/%: tests/unit/%.c $(OBJDIR)/libloadgen.a | $(GENH)
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests/unit $(shell pkg-config --cflags cmocka) -o $@ $< \
	    $(OBJDIR)/libloadgen.a $(LDLIBS) $(shell pkg-config --libs cmocka)

$(OBJDIR)/fuzz/%: tests/fuzz/%.c $(OBJDIR)/libloadgen.a | $(GENH)
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJDIR)/libloadgen.a $(LDLIBS)

# make test: unit tests (cmocka), the fuzz corpora replayed, then integration
# scripts against real servers (nginx and loadgen serve on loopback). Ends
# with "N passed, N failed".
test: $(BIN) $(TESTBIN) $(FUZZBIN)
	$(Q)tests/run.sh $(BIN) $(OBJDIR)/tests

unit: $(BIN) $(TESTBIN) $(FUZZBIN)
	$(Q)tests/run.sh --unit-only $(BIN) $(OBJDIR)/tests

SAN_BASE := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
asan:
	$(Q)LOADGEN_SANITIZED=1 $(MAKE) --no-print-directory test VARIANT=asan CFLAGS= \
	    SAN="$(SAN_BASE) -fsanitize=address,undefined"
ubsan:
	$(Q)LOADGEN_SANITIZED=1 $(MAKE) --no-print-directory test VARIANT=ubsan CFLAGS= \
	    SAN="$(SAN_BASE) -fsanitize=undefined"
valgrind: $(BIN)
	$(Q)LOADGEN_VALGRIND=1 LOADGEN_SANITIZED=1 tests/run.sh --integration-only $(BIN) $(OBJDIR)/tests

demo: $(BIN)
	$(Q)scripts/demo.sh ./$(BIN)

bench: $(BIN)
	$(Q)scripts/bench.sh ./$(BIN)

# libFuzzer (clang) for FUZZ_SECONDS (60) per target; not part of make test.
fuzz:
	$(Q)scripts/fuzz.sh

# loadgen against the real Python scoring service (Flask + PyTorch MobileNetV2).
e2e: $(BIN)
	$(Q)scripts/e2e.sh ./$(BIN)

# 30 minutes against loadgen serve with 1% faults; memory must stay flat.
soak: $(BIN)
	$(Q)scripts/soak.sh ./$(BIN)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/loadgen/gnuplot $(DESTDIR)$(PREFIX)/share/loadgen/scenarios
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/loadgen
	install -m 644 $(wildcard scripts/gnuplot/*.gp) $(DESTDIR)$(PREFIX)/share/loadgen/gnuplot/
	install -m 644 $(wildcard scenarios/*.json) $(DESTDIR)$(PREFIX)/share/loadgen/scenarios/

clean:
	rm -rf obj loadgen

help:
	@echo "make [all|test|demo|bench|e2e|fuzz|soak|asan|ubsan|valgrind|install PREFIX=...|clean]"
