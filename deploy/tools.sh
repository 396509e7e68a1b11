#!/usr/bin/env bash
# deploy/tools.sh - the command-line tools the manifest tests run (tests/k8s), installed into
# this checkout's .local/ at pinned versions. Idempotent: a tool already there at its version
# is kept.
#
#   deploy/tools.sh            install what is missing (what `make tools` runs)
#   deploy/tools.sh check      exit 1 (naming it) if a tool is missing or at another version
#
# Tools:
#   .local/bin/kustomize                 built from source with the Go toolchain (Go module proxy)
#   .local/tools/checkov/bin/checkov     in its own virtual environment, from the hash-locked
#                                        deploy/tools/checkov.txt (checkov pins many packages:
#                                        they stay out of the workspace's uv.lock)
#
# Regenerate checkov.txt after changing deploy/tools/checkov.in:
#   python3 -m uv pip compile --generate-hashes --python-version 3.11 \
#       deploy/tools/checkov.in -o deploy/tools/checkov.txt
#
# Environment:
#   KUSTOMIZE_VERSION   default v5.8.0 (the tests do not depend on a newer one)
#   PYTHON              interpreter for checkov's environment (default python3.11, else python3)
set -euo pipefail

LOG_TAG="tools"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.0}"
BIN_DIR="$REPO_ROOT/.local/bin"
KUSTOMIZE="$BIN_DIR/kustomize"
CHECKOV_DIR="$REPO_ROOT/.local/tools/checkov"
CHECKOV="$CHECKOV_DIR/bin/checkov"
CHECKOV_LOCK="$REPO_ROOT/deploy/tools/checkov.txt"
# Holds the checksum of the lock the environment was installed from: a new lock reinstalls.
CHECKOV_STAMP="$CHECKOV_DIR/installed-from.sha256"

uv() { python3 -m uv "$@"; }

kustomize_current() {
    [[ -x "$KUSTOMIZE" ]] && "$KUSTOMIZE" version 2>/dev/null | grep -qF "$KUSTOMIZE_VERSION"
}

checkov_current() {
    [[ -x "$CHECKOV" && -f "$CHECKOV_STAMP" ]] \
        && [[ "$(cat "$CHECKOV_STAMP")" == "$(sha256sum "$CHECKOV_LOCK" | cut -d' ' -f1)" ]]
}

install_kustomize() {
    if kustomize_current; then
        log "kustomize $KUSTOMIZE_VERSION already installed"
        return 0
    fi
    command -v go >/dev/null 2>&1 || die "kustomize is built with Go, and go is not on PATH"
    local start
    start="$(now)"
    log "building kustomize $KUSTOMIZE_VERSION (go install, about a minute the first time)"
    mkdir -p "$BIN_DIR"
    GOBIN="$BIN_DIR" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
    kustomize_current || die "kustomize built but does not report $KUSTOMIZE_VERSION"
    log "kustomize $KUSTOMIZE_VERSION installed in $(elapsed "$start")s"
}

python_for_checkov() {
    if [[ -n "${PYTHON:-}" ]]; then
        printf '%s' "$PYTHON"
    elif command -v python3.11 >/dev/null 2>&1; then
        command -v python3.11
    else
        command -v python3
    fi
}

install_checkov() {
    if checkov_current; then
        log "checkov already installed from $(basename "$CHECKOV_LOCK")"
        return 0
    fi
    local start
    start="$(now)"
    log "installing checkov into $CHECKOV_DIR (hash-locked: $(basename "$CHECKOV_LOCK"))"
    rm -rf "$CHECKOV_DIR"
    uv venv --quiet --python "$(python_for_checkov)" "$CHECKOV_DIR"
    uv pip install --quiet --python "$CHECKOV_DIR/bin/python" --require-hashes \
        -r "$CHECKOV_LOCK"
    [[ -x "$CHECKOV" ]] || die "checkov installed but $CHECKOV is missing"
    sha256sum "$CHECKOV_LOCK" | cut -d' ' -f1 >"$CHECKOV_STAMP"
    log "checkov installed in $(elapsed "$start")s"
}

check() {
    local missing=0
    kustomize_current || { warn "kustomize $KUSTOMIZE_VERSION missing: run make tools"; missing=1; }
    checkov_current || { warn "checkov missing or stale: run make tools"; missing=1; }
    return "$missing"
}

case "${1:-install}" in
    install)
        install_kustomize
        install_checkov
        ;;
    check) check ;;
    *) die "usage: $0 [install|check]" ;;
esac
