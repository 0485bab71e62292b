# custos: the entry points a newcomer and CI use. Every target installs what it needs
# (scripts/install-deps.sh is idempotent and quick when everything is present).
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUSTOS_WERROR=ON

.PHONY: all deps configure build demo test unit bench fuzz sanitize format format-check lint clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# The main job: a guided tour of custos in fresh, temporary data directories: the
# foundation (keys, unseal, rotation, shredding), the feature store with policies, access
# requests and the audit log (scripts/demo-features.sh), then `custos server` on 127.0.0.1
# driven over HTTPS and mTLS (scripts/demo-server.sh).
demo: build
	$(BUILD)/src/cli/custos demo
	bash scripts/demo-features.sh $(BUILD)/src/cli/custos
	bash scripts/demo-server.sh $(BUILD)/src/cli/custos

# Every test: the fuzz targets for a bounded time, then unit, conformance and
# end-to-end suites through CTest (its summary line closes the output).
test: build format-check
	$(MAKE) fuzz
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 1200

# One module's tests: make unit LABEL=crypto
unit: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -L $(LABEL)

# libFuzzer targets (clang); each runs FUZZ_SECONDS seconds.
FUZZ_SECONDS ?= 30
fuzz: deps
	bash scripts/run-fuzzers.sh $(FUZZ_SECONDS)

# ASan + UBSan build of everything, then the unit tests.
sanitize: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCUSTOS_SANITIZE=ON \
	  -DCUSTOS_BUILD_BENCH=OFF
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS) -LE conformance

bench: deps
	bash scripts/bench-foundation.sh

format:
	find src tests bench tools fuzz -name '*.h' -o -name '*.cc' | xargs clang-format -i

format-check:
	find src tests bench tools fuzz -name '*.h' -o -name '*.cc' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) build-asan build-fuzzers

# clang-tidy (focused set in .clang-tidy) over every source, using the build's
# compile_commands.json.
lint: configure format-check
	find src tools -name '*.cc' | xargs -P$(JOBS) -n4 clang-tidy -p $(BUILD) --quiet 2>/dev/null
