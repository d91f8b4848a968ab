# Operator entry points. `make run` and `make test` install what they need first.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
SILO_DIR := $(CURDIR)/.silo
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
ARGS ?=

.PHONY: all deps build install run test test-unit test-asan test-fuzz fuzz fuzz-build fuzz-corpus \
	lint format bench clean

all: build

deps:
	@./deploy/install-deps.sh build

# Release-like build: no test hooks.
build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j$(JOBS)

build-test: deps
	cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DSILO_TEST_HOOKS=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-test -j$(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSILO_TEST_HOOKS=ON -DSILO_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-asan -j$(JOBS)

# silo and siloctl into $(PREFIX)/bin (default /usr/local/bin); nothing is written to the tree.
install: build
	cmake --install build --prefix $(PREFIX)

# Runs the driver in the foreground on a pool and socket under ./.silo/; ARGS="..." adds
# flags. test/readme runs the README's quickstart against exactly these commands.
run: build
	@mkdir -p $(SILO_DIR)/pool $(SILO_DIR)/kubelet
	exec ./build/silo --endpoint unix://$(SILO_DIR)/csi.sock --pool $(SILO_DIR)/pool \
		--kubelet-dir $(SILO_DIR)/kubelet --nodeid $$(hostname) $(ARGS)

# The whole suite: lint, the release build `make run` uses (optimised builds warn about
# things debug builds do not), tests, then the same tests under ASan+UBSan, then the fuzz
# targets' corpus replay and a short fuzzing run.
test: lint build test-unit test-asan test-fuzz

test-unit: build-test
	cd build-test && ctest --output-on-failure -j1

test-asan: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/test/lsan.supp \
		ctest --output-on-failure -j1

# libFuzzer targets (test/fuzz), built with clang in a tree of their own.
FUZZ_SECONDS ?= 300
fuzz-build: deps
	CC=clang-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSILO_FUZZ=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-fuzz -j$(JOBS)

# Replays each target's corpus and fuzzes it for a few seconds.
test-fuzz: fuzz-build
	./test/fuzz/run-fuzzers.sh build-fuzz 5

# Longer runs: make fuzz FUZZ_SECONDS=N [FUZZ_TARGETS="fuzz-node ..."].
fuzz: fuzz-build
	./test/fuzz/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Rewrites the RPC targets' generated seeds (fuzz-seeds.c) in test/fuzz/corpus.
fuzz-corpus: fuzz-build
	./build-fuzz/test/fuzz/fuzz-seeds test/fuzz/corpus

LINT_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

lint: build-test
	@echo "clang-format check"
	@clang-format --dry-run --Werror $(LINT_SOURCES)
	@echo "clang-tidy"
	@clang-tidy -p build-test --quiet --warnings-as-errors='*' $(filter %.c,$(LINT_SOURCES)) 2>/dev/null
	@echo "cppcheck"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -I. $(filter %.c,$(LINT_SOURCES))

format:
	clang-format -i $(LINT_SOURCES)

bench: build
	./build/test/silo-bench $(BENCH_ARGS)

clean:
	rm -rf build build-test build-asan build-fuzz
