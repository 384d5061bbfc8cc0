#!/usr/bin/env bash
# Print the path of a kustomize binary, building it once with `go install` (Go module proxy) if needed.
set -euo pipefail
VERSION=v5.5.0
bin_dir="${NUMREP_CACHE_DIR:-$HOME/.cache/numrep}/bin"
if command -v kustomize >/dev/null; then command -v kustomize; exit 0; fi
if [ ! -x "$bin_dir/kustomize" ]; then
  command -v go >/dev/null || { echo "Go is needed to build kustomize (apt-get install golang)" >&2; exit 1; }
  mkdir -p "$bin_dir"
  GOBIN="$bin_dir" go install "sigs.k8s.io/kustomize/kustomize/v5@${VERSION}" >&2
fi
echo "$bin_dir/kustomize"
