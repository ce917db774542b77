# Thin wrapper over CMake. `make test` and `make demo` install what is missing first.
BUILD_DIR ?= build
DEMO_DB ?= $(BUILD_DIR)/demo.db
TEST_BUILD_DIR ?= build-test
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# Debian packages needed to build, test and run trialdex.
DEB_PACKAGES = gcc g++ make cmake pkg-config \
	libxapian-dev xapian-tools libicu-dev libjansson-dev libxml2-dev \
	libarchive-dev zlib1g-dev libcurl4-openssl-dev libedit-dev libcriterion-dev \
	libsqlite3-dev

.PHONY: all deps build build-test test demo bench format clean

all: build

# Installs missing packages when run as root; otherwise prints the command to run.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: $$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "trialdex needs these Debian packages; install them as root with:"; \
	    echo "  apt-get install -y --no-install-recommends $$missing"; \
	    exit 1; \
	  fi; \
	fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DTD_BUILD_TESTS=OFF >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Tests run against a sanitizer build (ASan + UBSan) with warnings as errors.
# The benchmarks are built too, so that CI catches code in bench/ that no longer compiles.
build-test: deps
	cmake -S . -B $(TEST_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DTD_SANITIZE=ON -DTD_WERROR=ON \
	  -DTD_BUILD_TESTS=ON -DTD_BUILD_BENCHMARKS=ON >/dev/null
	cmake --build $(TEST_BUILD_DIR) -j $(JOBS)

# new_delete_type_mismatch is off because libxapian 1.4.22's Database::check
# frees an object with the wrong size (harmless with glibc, fatal under ASan).
# Criterion runs each test in a child process whose exit status does not reach
# the result, so sanitizer reports (leaks above all) are written to files and
# any such file fails the run. The reports are printed whether or not ctest
# passed (a failing test often explains itself there), then either failure
# fails the target.
test: build-test
	@rm -rf $(TEST_BUILD_DIR)/sanitizer && mkdir -p $(TEST_BUILD_DIR)/sanitizer
	@cd $(TEST_BUILD_DIR) && \
	  ASAN_OPTIONS=detect_leaks=1:new_delete_type_mismatch=0:log_path=$(CURDIR)/$(TEST_BUILD_DIR)/sanitizer/report \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/$(TEST_BUILD_DIR)/sanitizer/report \
	  ctest --output-on-failure -j $(JOBS); \
	ctest_status=$$?; \
	cd $(CURDIR); \
	reports=$$(ls $(TEST_BUILD_DIR)/sanitizer); \
	if [ -n "$$reports" ]; then \
	  cat $(TEST_BUILD_DIR)/sanitizer/*; echo "sanitizer reports above: failing"; \
	else echo "no sanitizer reports"; fi; \
	if [ $$ctest_status -ne 0 ]; then echo "ctest failed (status $$ctest_status)"; fi; \
	[ $$ctest_status -eq 0 ] && [ -z "$$reports" ]

# Reads the project's own sample corpus (hand-written API v2 JSON records).
demo: build
	@echo "== trialdex-index read corpus/sample (hand-written API v2 JSON studies)"
	@$(BUILD_DIR)/trialdex-index read corpus/sample
	@echo
	@echo "== the same records as one gzip-compressed JSON array, from standard input"
	@(printf '['; sep=''; for f in corpus/sample/*.json; do printf '%s' "$$sep"; cat "$$f"; sep=','; done; \
	  printf ']') | gzip | $(BUILD_DIR)/trialdex-index read --quiet -
	@echo
	@echo "== bad input is reported with its position and skipped; good records still load"
	@$(BUILD_DIR)/trialdex-index read tests/fixtures/framing/bad_lines.jsonl || true
	@echo
	@echo "== trialdex-index build -d $(DEMO_DB) corpus/sample"
	@rm -rf $(DEMO_DB) $(DEMO_DB).data $(DEMO_DB).lock
	@$(BUILD_DIR)/trialdex-index build --quiet -d $(DEMO_DB) corpus/sample
	@echo "== an update of the same records skips every one by content hash"
	@$(BUILD_DIR)/trialdex-index update --quiet -d $(DEMO_DB) corpus/sample
	@echo "== trialdex-index stats -d $(DEMO_DB)"
	@$(BUILD_DIR)/trialdex-index stats -d $(DEMO_DB)
	@$(BUILD_DIR)/trialdex-index check --quiet -d $(DEMO_DB)
	@echo
	@echo "== trialdex-search -d $(DEMO_DB) 'HR+/HER2- breast cancer CDK4/6 inhibitor' status:recruiting"
	@$(BUILD_DIR)/trialdex-search -d $(DEMO_DB) -n 3 'HR+/HER2- breast cancer CDK4/6 inhibitor' status:recruiting
	@echo
	@echo "== synonyms and biomarker polarity: Enhertu finds trastuzumab deruxtecan; HER2 -low is HER2-low"
	@$(BUILD_DIR)/trialdex-search -d $(DEMO_DB) -n 2 --why Enhertu 'HER2 -low'
	@echo
	@echo "== facets over the whole match set, sorted by start date"
	@$(BUILD_DIR)/trialdex-search -d $(DEMO_DB) -n 3 --facets --sort start 'breast cancer' phase:2-3
	@echo
	@echo "== a patient description: trials whose age and sex limits admit her rank first"
	@$(BUILD_DIR)/trialdex-search -d $(DEMO_DB) -n 3 --no-snippets \
	  'A 72-year-old woman with HER2-positive metastatic breast cancer after trastuzumab and pertuzumab'
	@echo
	@echo "== a malformed query gets its position and a hint"
	@$(BUILD_DIR)/trialdex-search -d $(DEMO_DB) 'near:Boston within:10' || true
	@if [ -t 0 ] && [ -t 1 ]; then \
	  echo; echo "== the interactive shell (:help for commands, Ctrl-D to leave)"; \
	  $(BUILD_DIR)/trialdex-search -d $(DEMO_DB); \
	fi

# The whole comparison on the real corpus (../shared): see bench/run-all.
bench: deps
	@bench/run-all

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR)
