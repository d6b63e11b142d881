# xboot — one Makefile for the whole tree.
#   make            build ./xboot
#   make check      unit tests + bats tests; ends with "N passed, N failed"
#   make demo       install what is missing, build, bootstrap armhf stable
#   make asan       unit tests under AddressSanitizer + UBSan
#   make layers     fails when an #include crosses a layer upward (tests/layers)
#   make bench      xboot against mmdebstrap and debootstrap
#   make deps       apt-get install the build and test dependencies
#   make install    PREFIX=/usr/local (DESTDIR too); make package-check
#   make fuzz       libFuzzer on each parser (FUZZ_TIME=60 s each); make fuzz-replay

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
PKGS     := libsolv libsolvext libarchive libcurl libseccomp libcrypto liblzma
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wconversion -Wno-sign-conversion
# The version is debian/changelog's, so that the package and --version agree.
VERSION  := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
CFLAGS   ?= -O2 -g
# What the code needs, kept apart from CFLAGS so that `make CFLAGS=...`
# (as make asan does) changes only optimisation and instrumentation.
XB_CFLAGS := -std=gnu17 $(WARN) -D_GNU_SOURCE -DXB_VERSION='"$(VERSION)"' \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypt -lpthread
B        ?= build

LIB_SRC  := $(wildcard core/*/*.c fetch/*.c emu/*.c)
CMD_SRC  := $(wildcard cmd/*.c)
UNIT_SRC := $(wildcard tests/unit/test-*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

DEPS := build-essential pkg-config libsolv-dev libsolvext-dev libarchive-dev \
        libcurl4-openssl-dev libseccomp-dev libzstd-dev liblzma-dev libssl-dev gpgv gpg \
        debian-archive-keyring qemu-user-static dpkg-dev bats python3 \
        debootstrap mmdebstrap util-linux file xz-utils zstd ca-certificates \
        squashfs-tools squashfuse fuse2fs e2fsprogs uidmap valgrind curl cpio lz4 skopeo umoci podman \
        libcrypt-dev fdisk dosfstools mtools btrfs-progs qemu-system-x86 qemu-system-arm \
        ovmf qemu-efi-aarch64 qemu-efi-arm u-boot-qemu \
        debhelper lintian bash-completion zsh apt-cacher-ng \
        gcc-mips-linux-gnu gcc-powerpc-linux-gnu gcc-m68k-linux-gnu gcc-sh4-linux-gnu \
        libc6-dev-mips-cross

all: xboot

xboot: $(CMD_OBJ) $(B)/libxboot.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libxboot.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(XB_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libxboot.a
	@mkdir -p $(dir $@)
	$(CC) $(XB_CFLAGS) $(CFLAGS) -Itests/unit -o $@ $^ $(LDFLAGS) $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)

# What prints the version is rebuilt when debian/changelog gives a new one.
$(B)/cmd/bootstrap.o $(B)/fetch/http.o $(B)/core/output/oci.o: debian/changelog

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
		: "apt-cacher-ng's service would serve every interface; tests start their own"; \
		case " $$missing " in *" apt-cacher-ng "*) \
			systemctl disable --now apt-cacher-ng 2>/dev/null || true;; esac; \
	fi

unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

check: deps layers
	$(MAKE) xboot unit-bins
	@tests/run-all $(UNIT_BIN)

layers:
	@tests/layers

unit-bins: $(UNIT_BIN)

# GCC's -Wconversion and -Wformat-truncation misfire on UBSan-instrumented
# code; the normal build enforces both.
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -Wno-conversion -Wno-format-truncation
asan:
	$(MAKE) B=build-asan CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" unit

demo: deps xboot
	@tests/demo

bench: deps xboot
	@tests/bench

# The binary finds its templates in ../share/xboot from where it is, so
# any PREFIX works and no path of this tree is built into it.
install: xboot
	install -D -m 0755 xboot $(DESTDIR)$(PREFIX)/bin/xboot
	install -D -m 0644 man/xboot.1 $(DESTDIR)$(PREFIX)/share/man/man1/xboot.1
	install -d $(DESTDIR)$(PREFIX)/share/xboot
	install -m 0644 rootfs-templates/*.conf $(DESTDIR)$(PREFIX)/share/xboot/
	install -D -m 0644 completion/xboot.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/xboot
	install -D -m 0644 completion/xboot.zsh $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_xboot

# The Debian package, built from a copy of this tree, checked by lintian
# (errors fail), installed, made to bootstrap, and removed again.
package-check: deps
	@bats tests/bats/package.bats

clean:
	rm -rf $(B) build-asan xboot

.PHONY: all deps unit unit-bins check layers asan demo bench install package-check clean

# make fuzz, make fuzz-replay: the parsers' fuzz targets (tests/fuzz/README.md)
include tests/fuzz/fuzz.mk
