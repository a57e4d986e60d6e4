# RouteShift: build, test, bench and run. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := all

ROOT      := $(CURDIR)
BUILD     := $(ROOT)/build
NGX_SRC   := /usr/share/nginx/src
NGX_BUILD := $(BUILD)/nginx
MODULE    := $(BUILD)/ngx_http_routeshift_module.so
SYNC      := $(BUILD)/routeshift-sync
PYTEST    := /usr/bin/python3 -m pytest

DEB_PKGS := nginx nginx-dev build-essential g++ pkg-config libpcre2-dev zlib1g-dev libssl-dev \
            libjansson-dev libxxhash-dev libcmocka-dev libpq-dev postgresql postgresql-client \
            python3-pytest python3-botocore wrk valgrind openssl ca-certificates curl tzdata \
            chromium prometheus clang libclang-rt-14-dev lintian debhelper dpkg-dev fakeroot \
            python3-pytest-xdist

CORE_LIB  := $(BUILD)/core/librouteshift_core.a
MODULE_SRCS := config config.make $(wildcard ngx_routeshift_module/glue/*.cpp ngx_routeshift_module/glue/*.hpp ngx_routeshift_module/regex/*.[ch]pp) \
               $(shell find ngx_routeshift_module/core -name '*.[ch]pp') ngx_routeshift_module/module.ld

.DELETE_ON_ERROR:
js:
	@# node/npm: use the machine's if present (it may come from outside Debian), else Debian's
	@command -v npm >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	@cd t/js && if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi

.PHONY: js all help deps core module sync unit integration sync-test test bench bench-instructions bench-cpu sanitized-core fuzz fuzz-campaign run stop clean \
        deb deb-prebuilt deb-test deb-check install fuzz test-asan module-asan test-build unit-build fuzz-build sync-tests-build

all: module sync ## build the module and the sync service

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

deps: ## install every Debian and npm dependency (idempotent)
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	@$(MAKE) --no-print-directory js

# nginx's configure must run again when a glue source or any header appears or disappears
SRC_LIST := $(BUILD)/module-sources.txt
$(shell mkdir -p $(BUILD); { ls ngx_routeshift_module/glue/*.cpp; find ngx_routeshift_module -name '*.hpp' | sort; } 2>/dev/null > $(SRC_LIST).new; \
        cmp -s $(SRC_LIST).new $(SRC_LIST) || mv $(SRC_LIST).new $(SRC_LIST); rm -f $(SRC_LIST).new)

# The flags Debian's build of the packages uses (debian/rules' DEB_BUILD_MAINT_OPTIONS; dpkg-buildflags
# run in the source tree, as debhelper's nginx_mod does): the module and the sync are built with
# them, so the packages `make test` makes hold the very binaries the tests ran (RS_PREBUILT below).
DEB_MAINT_OPTIONS := $(shell sed -n 's/^export DEB_BUILD_MAINT_OPTIONS *= *//p' debian/rules)
BUILDFLAGS = cd $(ROOT) && DEB_BUILD_MAINT_OPTIONS='$(DEB_MAINT_OPTIONS)' dpkg-buildflags --get
# the sync's version, as debian/rules gives it (DEB_VERSION_UPSTREAM: no epoch, no revision)
SYNC_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version | sed -e 's/^[0-9]*://' -e 's/-[^-]*$$//')

$(NGX_BUILD)/Makefile: config config.make $(SRC_LIST) debian/rules
	mkdir -p $(NGX_BUILD)
	cd $(NGX_SRC) && . ./conf_flags && RS_CORE_LIB=$(CORE_LIB) ./configure \
	  --with-cc-opt="$$($(BUILDFLAGS) CFLAGS) -fPIC $$($(BUILDFLAGS) CPPFLAGS)" \
	  --with-ld-opt="$$($(BUILDFLAGS) LDFLAGS) -fPIC" \
	  "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(ROOT) --builddir=$(NGX_BUILD) > $(NGX_BUILD)/configure.log

# core first (order-only): the module's and the sync's own calls of the core Makefile then find it
# built, so `make -j` never runs two `ar` on the same archive
$(MODULE): $(NGX_BUILD)/Makefile $(MODULE_SRCS) | core
	$(MAKE) -j2 -f $(NGX_BUILD)/Makefile -C $(NGX_SRC) modules
	@# new inode: overwriting a .so that a running nginx has mapped crashes it
	cp $(NGX_BUILD)/ngx_http_routeshift_module.so $(MODULE).tmp && mv -f $(MODULE).tmp $(MODULE)
	@# binary compatibility + dlopen check (a missing symbol only shows up here)
	@test "$$(strings /usr/sbin/nginx | grep -E '^[0-9],[0-9],[0-9],[01]{30,}$$')" = \
	      "$$(strings $(MODULE) | grep -E '^[0-9],[0-9],[0-9],[01]{30,}$$')" || { echo "module signature differs from /usr/sbin/nginx"; exit 1; }
	@printf 'load_module %s;\nevents{}\nhttp{routeshift_zone rs_check 1m;}\n' $(MODULE) > $(BUILD)/load-check.conf
	@nginx -q -t -p $(BUILD) -c $(BUILD)/load-check.conf -e /dev/stderr -g 'pid $(BUILD)/load-check.pid;' && echo "module loads: $(MODULE)"

module: $(MODULE) ## build ngx_http_routeshift_module.so against Debian's nginx-dev and check it loads

core: ## build the core library (build/core/librouteshift_core.a)
	$(MAKE) -C ngx_routeshift_module/core OUT=$(BUILD)/core

sync: core ## build routeshift-sync
	$(MAKE) -C sync-service CXXFLAGS="$$($(BUILDFLAGS) CXXFLAGS)" LDFLAGS="$$($(BUILDFLAGS) LDFLAGS)" \
	  VERSION=$(SYNC_VERSION)

unit: ## CMocka unit tests (core library, sync service)
	$(MAKE) -C t/unit
	@if [ -f t/sync/Makefile ]; then $(MAKE) -C t/sync; fi

# the 25 slowest tests are listed after each run: where the suite's time goes, run by run.
# INTEGRATION_JOBS pytest-xdist workers (0: one process). The suite mostly waits (on nginx, the mocks,
# Postgres, the SDK's node, timeouts), so two workers on two cores halve its wall time. Each worker
# has its own Postgres cluster, PKI, nginx prefixes and spools (mkdtemp) and its own share of the
# ports (helpers.free_port); --dist loadfile keeps a file's tests on one worker, so a module-scoped
# fixture (the provider matrix) is set up once.
INTEGRATION_JOBS ?= 2
integration: module sync js ## pytest integration suite (real nginx, Postgres, mock providers, official SDKs)
	$(PYTEST) -q -p no:cacheprovider -n $(INTEGRATION_JOBS) --dist loadfile --durations=25 \
	  t/integration $(wildcard t/sync/integration)

# `make test`: everything is compiled first by one parallel make (its job slots shared by the unit
# tests, the fuzz targets, the module, the sync and the packages, so the serial parts of one --
# nginx's configure, dpkg's, lintian -- overlap the compiles of the others), then the steps run in
# order, each timed: unit tests, the fuzz check, the integration suite (alone: it measures
# timeouts), the packages installed into this machine's nginx.
# Each step's wall time and the CPU time (user + sys) of everything it ran and waited for (bash's
# `times`, children): CPU time is comparable between a quiet and a loaded machine, wall time is not.
# Daemons that leave their parent (Postgres under pg_ctl) are not counted.
TEST_TIMES := $(BUILD)/test-times
test: deps ## everything (installs deps first): build, unit, fuzz, integration, packages
	@mkdir -p $(TEST_TIMES); t0=$$(date +%s); times > $(TEST_TIMES)/start; \
	cpu() { awk 'function sec(x) { split(x, p, "m"); sub("s", "", p[2]); return p[1] * 60 + p[2] } \
	             FNR == 2 { f = (NR == FNR) ? 1 : 2; u[f] = sec($$1); y[f] = sec($$2) } \
	             END { printf "%.1f s CPU (%.1f user + %.1f sys)", u[2] - u[1] + y[2] - y[1], u[2] - u[1], y[2] - y[1] }' $$1 $$2; }; \
	step() { s=$$(date +%s); times > $(TEST_TIMES)/before; $(MAKE) --no-print-directory $$1 || exit 1; \
	         times > $(TEST_TIMES)/after; \
	         echo "### make test: $$1 took $$(( $$(date +%s) - s )) s wall, $$(cpu $(TEST_TIMES)/before $(TEST_TIMES)/after)"; }; \
	step test-build; step unit; step fuzz; step integration; step deb-check; \
	times > $(TEST_TIMES)/end; \
	echo "### make test: passed in $$(( $$(date +%s) - t0 )) s wall, $$(cpu $(TEST_TIMES)/start $(TEST_TIMES)/end)"

# The packages hold the module and the sync built above (RS_PREBUILT: same sources, same flags), so
# nothing is compiled twice; `make deb` alone compiles everything from the source tree, as a Debian
# build does.
test-build: core ## compile everything `make test` runs, in parallel
	$(MAKE) -j2 --no-print-directory unit-build fuzz-build sync-tests-build js deb-prebuilt

deb-prebuilt: module sync
	$(MAKE) --no-print-directory deb RS_PREBUILT=$(BUILD)

# The sanitized core is built once, before the unit tests and the fuzz targets that both link it:
# their own Makefiles would otherwise compile it twice at the same time into the same directory.
include ngx_routeshift_module/core/sanitized_core.mk
sanitized-core:
	+$(SANITIZED_CORE_BUILD)

unit-build: sanitized-core
	$(MAKE) -C t/unit build

fuzz-build: sanitized-core
	$(MAKE) -C fuzz build

sync-tests-build: sync
	@if [ -f t/sync/Makefile ]; then $(MAKE) -C t/sync tests; fi

# libFuzzer targets (fuzz/, clang, build/fuzz). `make fuzz` (part of `make test`) is deterministic:
# the saved crash inputs (t/fuzz/<target>/), then FUZZ_RUNS executions per target from the seeds
# with a fixed seed. `make fuzz-campaign FUZZ_SECONDS=600` explores (run it after touching a parser
# or translator; what it finds goes to t/fuzz/ with its fix).
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 30000
fuzz: ## libFuzzer check of every parser and translator: regression inputs + FUZZ_RUNS fixed-seed runs each
	$(MAKE) -C fuzz -j2 check FUZZ_RUNS=$(FUZZ_RUNS)

fuzz-campaign: ## libFuzzer exploration: every target for FUZZ_SECONDS (default 60), corpus kept in build/fuzz/corpus
	$(MAKE) -C fuzz -j2 campaign FUZZ_SECONDS=$(FUZZ_SECONDS)

# The module with AddressSanitizer + UBSan (build/asan), loaded into Debian's nginx with libasan
# preloaded; reports land in each gateway's prefix and fail the test (t/integration/README.md).
ASAN_BUILD  := $(BUILD)/asan
ASAN_MODULE := $(ASAN_BUILD)/ngx_http_routeshift_module.so
ASAN_CC     := -fsanitize=address,undefined -fno-omit-frame-pointer
LIBASAN     := $(shell $(CXX) -print-file-name=libasan.so)
# libstdc++ preloaded with libasan: nginx is C, so without it libstdc++ arrives only with the
# module's dlopen, after ASan resolved its __cxa_throw interceptor to nothing, and the first C++
# throw in a worker dies in "CHECK failed: real___cxa_throw != 0".
LIBSTDCXX   := $(shell $(CXX) -print-file-name=libstdc++.so.6)
ASAN_TESTS  ?= t/integration $(wildcard t/sync/integration)
# the core with gcc and the same sanitizers (gcc's libasan is the one preloaded into nginx)
ASAN_CORE   := $(ASAN_BUILD)/core

$(ASAN_BUILD)/nginx/Makefile: config config.make $(SRC_LIST)
	mkdir -p $(ASAN_BUILD)/nginx
	cd $(NGX_SRC) && . ./conf_flags && RS_CORE_LIB=$(ASAN_CORE)/librouteshift_core.a ./configure \
	  --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $$(dpkg-buildflags --get CPPFLAGS) $(ASAN_CC)" \
	  --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) -fPIC $(ASAN_CC)" \
	  "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(ROOT) --builddir=$(ASAN_BUILD)/nginx > $(ASAN_BUILD)/configure.log

$(ASAN_MODULE): $(ASAN_BUILD)/nginx/Makefile $(MODULE_SRCS)
	$(MAKE) -C ngx_routeshift_module/core OUT=$(ASAN_CORE) SANITIZE=1
	@# SANITIZE=1 in the environment: nginx's own call of the core Makefile keeps the same flags
	SANITIZE=1 $(MAKE) -j2 -f $(ASAN_BUILD)/nginx/Makefile -C $(NGX_SRC) modules
	cp $(ASAN_BUILD)/nginx/ngx_http_routeshift_module.so $(ASAN_MODULE).tmp && mv -f $(ASAN_MODULE).tmp $(ASAN_MODULE)

module-asan: $(ASAN_MODULE) ## the module built with AddressSanitizer + UBSan (build/asan)

test-asan: module-asan sync js ## integration suite against the ASan module in Debian's nginx (LD_PRELOAD libasan)
	ROUTESHIFT_MODULE=$(ASAN_MODULE) ROUTESHIFT_ASAN="$(LIBASAN) $(LIBSTDCXX)" $(PYTEST) -q -p no:cacheprovider $(ASAN_TESTS)

bench: module ## wrk: req/s, p50/p99 of proxy_pass, OpenAI pass-through, Anthropic translation at 1 KB and 100 KB
	bash bench/run.sh

bench-instructions: module ## callgrind: instructions per request of each arm at 1 KB..1 MB (deterministic)
	bash bench/instructions.sh

bench-cpu: module ## wrk + /proc: user and kernel CPU per request of the front worker, per arm
	bash bench/cpu.sh

run: deps module sync ## run the gateway: throwaway Postgres + routeshift-sync + nginx with the demo config
	bash scripts/run-gateway.sh

stop: ## stop what `make run` started
	bash scripts/run-gateway.sh stop

# Debian packages, built the way Debian builds its own libnginx-mod-* (debian/rules: nginx_mod
# build system + dh_nginx) from a copy of the tree, so dpkg-buildpackage's output stays in build/deb.
DEB_DIR := $(BUILD)/deb
deb: ## Debian packages libnginx-mod-http-routeshift + routeshift-sync into build/deb/, checked by lintian
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/routeshift
	git ls-files -z --cached --others --exclude-standard | grep -zv '^t/js/node_modules/' | \
	  tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/routeshift
	cd $(DEB_DIR)/routeshift && $(if $(RS_PREBUILT),RS_PREBUILT=$(RS_PREBUILT)) dpkg-buildpackage -us -uc -b -j2 > $(DEB_DIR)/build.log 2>&1 || \
	  { tail -40 $(DEB_DIR)/build.log; exit 1; }
	@# errors fail the build; warnings are printed (and kept in build/deb/lintian.log)
	lintian --fail-on error --info $(DEB_DIR)/*.deb > $(DEB_DIR)/lintian.log 2>&1; rc=$$?; cat $(DEB_DIR)/lintian.log; exit $$rc
	@ls -1 $(DEB_DIR)/*.deb

deb-test: deb ## install both packages into this machine's nginx and serve a chat request (root; purges them after)
	@$(MAKE) --no-print-directory deb-check

deb-check: # the packages already in build/deb/, installed and tested
	@ls $(DEB_DIR)/*.deb > /dev/null
	$(PYTEST) -q -p no:cacheprovider t/packaging

# Non-Debian systems: the module where `nginx -V` says modules live, the sync service under PREFIX.
PREFIX ?= /usr/local
NGX_MODULES_DIR ?= $(shell nginx -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p' | grep . || echo /usr/lib/nginx/modules)
install: module sync ## install the module into nginx's modules dir and routeshift-sync under PREFIX (DESTDIR honoured)
	install -D -m 0644 $(MODULE) $(DESTDIR)$(NGX_MODULES_DIR)/ngx_http_routeshift_module.so
	$(MAKE) -C sync-service install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	@echo "add to nginx.conf (main context): load_module $(NGX_MODULES_DIR)/ngx_http_routeshift_module.so;"

clean:
	rm -rf $(BUILD)
	@if [ -f t/unit/Makefile ]; then $(MAKE) -C t/unit clean; fi
