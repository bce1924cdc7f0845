# memfail: the two commands of the README, and the rest.
#
#   make demo     install what is missing, build, run the demo
#   make check    install what is missing, build, run the whole suite
#   make install PREFIX=DIR
#   make sanitize   the suite under ASan + UBSan (build-asan/)
#   make bench      the benchmarks (bench/)
#
# Debian packages the build needs; installed with apt-get when missing.
DEPS := gcc meson ninja-build pkg-config libsqlite3-dev libjson-c-dev \
        libcmocka-dev uuid-dev spin libfuse3-dev fuse3
PREFIX ?= /usr/local
BUILD ?= build

.PHONY: all deps build demo check install sanitize tsan bench clean

all: build

deps:
	@missing=""; \
	for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "memfail: installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(abspath $(PREFIX)) --libdir=lib

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	demo/demo.sh $(BUILD)

check: build
	tests/run-tests.sh $(BUILD)

install: deps $(BUILD)/build.ninja
	meson configure $(BUILD) --prefix=$(abspath $(PREFIX)) --libdir=lib
	ninja -C $(BUILD)
	meson install -C $(BUILD) --quiet

# Every process of the suite (daemon, CLI, preload, actors) instrumented;
# any report, leaks included, fails the run.
# (in the build tree: two checkouts on one machine must not share it)
SANDIR := $(CURDIR)/build-asan/sanitizer-logs
sanitize: deps
	[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug
	ninja -C build-asan
	rm -rf $(SANDIR) && mkdir -p $(SANDIR)
	ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:log_path=$(SANDIR)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(SANDIR)/ubsan \
	MF_SANITIZE_DIR=$(SANDIR) tests/run-tests.sh build-asan

# ThreadSanitizer where threads meet: the preload's service thread against
# the program's threads, fork, several threads mapping one namespace.
# TSan runs a signal handler only when the thread next leaves a system
# call, so the two tests that expect an early-kill AO to kill a process
# blocked in read() see it late under TSan; they are left out here.
TSANDIR := $(CURDIR)/build-tsan/sanitizer-logs
TSAN_TESTS := test-process test-bystanders test-media test-robust test-operations test-libmemfail test-ordinary test-ordinary-share test-wberr test-shmem-cut test-cow test-fsdax test-fsdax-stress test-fsmeta unit-fs
tsan: deps
	[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false --buildtype=debug
	ninja -C build-tsan memfaild memfail libmemfail-preload.so tests/mfactor $(addprefix tests/,$(TSAN_TESTS))
	rm -rf $(TSANDIR) && mkdir -p $(TSANDIR)
	TSAN_OPTIONS="log_path=$(TSANDIR)/tsan handle_sigbus=0 handle_segv=0 die_after_fork=0" \
	CMOCKA_TEST_ABORT=0 MF_ONLY="$(TSAN_TESTS)" MF_SANITIZE_DIR=$(TSANDIR) \
	MF_TSAN=1 tests/run-tests.sh build-tsan

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan
