# fuzz.mk — the fuzz targets of tests/fuzz/, one per parser of what a
# mirror or a .deb sends (tests/fuzz/README.md).  Included by the
# top-level Makefile, whose variables (XB_CFLAGS, LDLIBS, B) and rules
# (B/libxboot.a) it uses:
#   make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="deb822 ..."]
#        clang + libFuzzer + ASan + UBSan into build-fuzz/; runs each
#        target FUZZ_TIME seconds from its seeds (tests/fuzz/corpus/NAME),
#        keeping what it finds in build-fuzz/corpus-NAME; a crash stops
#        it, naming the input (build-fuzz/artifacts-NAME/)
#   make fuzz-replay
#        gcc + ASan + UBSan + tests/fuzz/driver.c into build-fuzz-replay/;
#        replays every seed and every regression input (tests/fuzz/regress/NAME)
#   make fuzz-replay-build   only builds those (tests/fuzz/replay runs them)
#   make fuzz-clean

# Included anywhere in the Makefile, this file leaves its default goal be.
FUZZ_GOAL    := $(.DEFAULT_GOAL)
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_TIME    ?= 60
FUZZ_DEPS    := clang libclang-rt-dev
FUZZ_CC      ?= clang
FUZZ_B       := build-fuzz
FUZZ_RB      := build-fuzz-replay
# The sub-makes below read the Makefile that included this file.
FUZZ_MAKE    := $(MAKE) -f $(firstword $(MAKEFILE_LIST))
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h)

FUZZ_SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all
# clang's warnings are not GCC's, which the normal build enforces: here
# they are only shown.
FUZZ_CFLAGS  := $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Wno-error
# GCC's -Wconversion and -Wformat-truncation misfire on UBSan-instrumented
# code (as for make asan).
FUZZ_REPLAY_CFLAGS := $(FUZZ_SAN) -Wno-conversion -Wno-format-truncation

fuzz:
	@missing=$$(for p in $(FUZZ_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	+$(FUZZ_MAKE) -s B=$(FUZZ_B) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz-%)
	@FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run $(FUZZ_TARGETS)

fuzz-replay-build:
	+$(FUZZ_MAKE) -s B=$(FUZZ_RB) CFLAGS="$(FUZZ_REPLAY_CFLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" $(FUZZ_TARGETS:%=$(FUZZ_RB)/fuzz-%)

fuzz-replay: fuzz-replay-build
	@FUZZ_NO_BUILD=1 tests/fuzz/replay $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf $(FUZZ_B) $(FUZZ_RB)

clean: fuzz-clean

# Made only by the sub-makes above, where B is the directory's own, so
# that B/libxboot.a is the instrumented library.
$(FUZZ_B)/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_HDRS) $(FUZZ_B)/libxboot.a
	$(CC) $(XB_CFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/libxboot.a $(LDFLAGS) $(LDLIBS)

$(FUZZ_RB)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/driver.c $(FUZZ_HDRS) $(FUZZ_RB)/libxboot.a
	$(CC) $(XB_CFLAGS) $(CFLAGS) -o $@ $< tests/fuzz/driver.c $(FUZZ_RB)/libxboot.a $(LDFLAGS) $(LDLIBS)

.PHONY: fuzz fuzz-replay fuzz-replay-build fuzz-clean
.DEFAULT_GOAL := $(FUZZ_GOAL)
