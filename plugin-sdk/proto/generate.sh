#!/usr/bin/env bash
# Regenerates the checked-in Go code for stagev1/stage.proto (`make proto`
# calls this). Builds never need it: the generated files are committed.
set -euo pipefail

# Pinned generator versions; bump them together with the go.mod versions of
# google.golang.org/protobuf and google.golang.org/grpc.
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

cd "$(dirname "$0")"
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# ensure_generator installs a pinned protoc plugin unless that exact version is on PATH.
ensure_generator() {
	local name="$1" pkg="$2" want="${2##*@}"
	if ! "$name" --version 2>/dev/null | grep -qF "${want#v}"; then
		echo "installing $pkg" >&2
		go install "$pkg"
	fi
}

if ! command -v protoc >/dev/null; then
	echo "installing protobuf-compiler (protoc)" >&2
	apt-get update -qq && apt-get install -y -qq protobuf-compiler
fi
ensure_generator protoc-gen-go "$PROTOC_GEN_GO"
ensure_generator protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC"

protoc -I . \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	stagev1/stage.proto
echo "generated stagev1/stage.pb.go and stagev1/stage_grpc.pb.go" >&2
