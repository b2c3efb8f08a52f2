# reinstall: build, test, lint, demo, proto, bench, man, install, deb.
GO      ?= go
BIN     := bin/reinstall
# Every Go module of the repository (./... stops at a module boundary).
MODULES := . plugin-sdk examples/plugins/license-installer

.PHONY: all build test lint demo demo-host proto bench fuzz clean man install uninstall deb

# Installation layout. DESTDIR stages the tree (packaging). The plugin
# directory is where the binary looks (pipeline.PluginDirs), whatever PREFIX.
PREFIX      ?= /usr/local
DESTDIR     ?=
SBINDIR     ?= $(PREFIX)/sbin
MAN1DIR     ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
PLUGINDIR   ?= /usr/libexec/reinstall/plugins
# MANPAGES is where `make man` writes the generated pages (not checked in).
MANPAGES    ?= docs/man
# DIST is fixed: packaging/nfpm.yaml names dist/deb-root.
DIST        := dist
VERSION     := $(shell sed -n 's/^const Version = "\(.*\)"/\1/p' internal/version/version.go)
NFPM        := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2

all: build

# ANSIBLE_MODULE is the reinstall_ct Ansible module: static, for nodes
# without a usable Python (examples/ansible).
ANSIBLE_MODULE := bin/ansible/reinstall_ct

build:
	$(GO) build -o $(BIN) ./cmd/reinstall
	CGO_ENABLED=0 $(GO) build -o $(ANSIBLE_MODULE) ./cmd/ansible-reinstall-ct

test:
	bash scripts/test.sh

lint:
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

demo:
	bash scripts/demo.sh

# demo-host leaves a ready demo host (container "web" running) under
# DEMO_ROOT to play with; it prints what to try.
DEMO_ROOT ?= /var/tmp/reinstall-demo
demo-host:
	bash scripts/demo-host.sh $(DEMO_ROOT)

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

# man writes one page per command, generated from the CLI definition, dated
# by the last commit (SOURCE_DATE_EPOCH) so that a rebuild is identical.
man: build
	mkdir -p $(MANPAGES)
	rm -f $(MANPAGES)/*.1
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || echo 0)} \
	  $(BIN) __gendocs man $(MANPAGES)

# install: the binary, its man pages, bash/zsh/fish completion and the
# (empty) default plugin directory, under $(DESTDIR).
install: build man
	install -d "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(MAN1DIR)" "$(DESTDIR)$(BASHCOMPDIR)" \
	  "$(DESTDIR)$(ZSHCOMPDIR)" "$(DESTDIR)$(FISHCOMPDIR)" "$(DESTDIR)$(PLUGINDIR)"
	install -m 0755 $(BIN) "$(DESTDIR)$(SBINDIR)"/reinstall
	install -m 0644 $(MANPAGES)/*.1 "$(DESTDIR)$(MAN1DIR)"/
	$(BIN) completion bash > "$(DESTDIR)$(BASHCOMPDIR)"/reinstall
	$(BIN) completion zsh > "$(DESTDIR)$(ZSHCOMPDIR)"/_reinstall
	$(BIN) completion fish > "$(DESTDIR)$(FISHCOMPDIR)"/reinstall.fish
	chmod 0644 "$(DESTDIR)$(BASHCOMPDIR)"/reinstall "$(DESTDIR)$(ZSHCOMPDIR)"/_reinstall "$(DESTDIR)$(FISHCOMPDIR)"/reinstall.fish

# uninstall removes what install put there; the plugin directory only if empty.
uninstall:
	rm -f "$(DESTDIR)$(SBINDIR)"/reinstall "$(DESTDIR)$(MAN1DIR)"/reinstall.1 "$(DESTDIR)$(MAN1DIR)"/reinstall-*.1 \
	  "$(DESTDIR)$(BASHCOMPDIR)"/reinstall "$(DESTDIR)$(ZSHCOMPDIR)"/_reinstall "$(DESTDIR)$(FISHCOMPDIR)"/reinstall.fish
	-rmdir "$(DESTDIR)$(PLUGINDIR)" 2>/dev/null

# deb stages a static, stripped build under $(DIST)/deb-root (Debian paths, man pages
# gzipped) and packs it with nfpm (packaging/nfpm.yaml) into $(DIST)/.
# nfpm is fetched by `go run` at a pinned version, not a module dependency.
DEB_ROOT := $(DIST)/deb-root
deb:
	rm -rf $(DEB_ROOT)
	CGO_ENABLED=0 GOFLAGS="-trimpath '-ldflags=-s -w'" $(MAKE) --no-print-directory install BIN=$(DIST)/build/reinstall MANPAGES=$(DIST)/build/man \
	  DESTDIR="$(abspath $(DEB_ROOT))" PREFIX=/usr ZSHCOMPDIR=/usr/share/zsh/vendor-completions
	gzip -9n $(DEB_ROOT)/usr/share/man/man1/*.1
	VERSION=$(VERSION) ARCH=$$($(GO) env GOARCH) $(GO) run $(NFPM) package \
	  --config packaging/nfpm.yaml --packager deb --target $(DIST)/

clean:
	rm -rf bin $(DIST) $(MANPAGES)
