# The core library built once with clang, AddressSanitizer + UBSan and libFuzzer's coverage hooks:
# the library both the CMocka unit tests (t/unit) and the libFuzzer targets (fuzz/) link. One build
# instead of two, and clang compiles the sanitized core ~4x faster than gcc (make test's budget).
# The coverage hooks cost the unit tests nothing visible; without libFuzzer linked they are
# ASan's no-op defaults. Included with ROOT set to the repository root.
SANITIZED_CORE_DIR := $(ROOT)/build/core-sanitized
SANITIZED_CORE_LIB := $(SANITIZED_CORE_DIR)/librouteshift_core.a
SANITIZED_CXX      := clang++
# -Wno-error: clang warns about things gcc, the project's compiler for the shipped code, does not.
SANITIZED_CORE_BUILD = $(MAKE) -C $(ROOT)/ngx_routeshift_module/core OUT=$(SANITIZED_CORE_DIR) \
  CXX=$(SANITIZED_CXX) SANITIZE=1 EXTRA_CXXFLAGS='-fsanitize=fuzzer-no-link -Wno-error'
