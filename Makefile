# reinstall: build, test, lint, demo, proto, bench.
GO      ?= go
BIN     := bin/reinstall
# Every Go module of the repository (./... stops at a module boundary).
MODULES := . plugin-sdk examples/plugins/license-installer

.PHONY: all build test lint demo proto bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/reinstall

test:
	bash scripts/test.sh

lint:
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

demo:
	bash scripts/demo.sh

proto:
	bash plugin-sdk/proto/generate.sh

bench:
	bash scripts/bench.sh

# fuzz runs each fuzz target for FUZZTIME and copies what it found (Go's
# cache) into the package's testdata/fuzz, the corpus to commit.
FUZZTIME ?= 20s
FUZZ := internal/vz:FuzzParseConfig internal/vz:FuzzParseCTID internal/vz:FuzzResolve \
	internal/vz:FuzzLoadContainer internal/safefs:FuzzCleanName internal/safefs:FuzzUntar pipeline:FuzzLoad
fuzz:
	@cache=$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m); for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t#*:}; \
	  echo "== $$fn ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./$$pkg || exit 1; \
	  mkdir -p $$pkg/testdata/fuzz/$$fn; cp -n $$cache/$$pkg/$$fn/* $$pkg/testdata/fuzz/$$fn/ 2>/dev/null || true; \
	done

clean:
	rm -rf bin
