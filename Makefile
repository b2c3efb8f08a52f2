# reinstall: build, test, lint, demo, proto, bench.
GO      ?= go
BIN     := bin/reinstall
# Every Go module of the repository (./... stops at a module boundary).
MODULES := . plugin-sdk examples/plugins/license-installer

.PHONY: all build test lint demo proto bench clean

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

clean:
	rm -rf bin
