#!/usr/bin/env bash
# deploy/chromium.sh - Debian's Chromium and its driver, for the dashboard's browser test
# (tests/e2e/test_dashboard.py drives /usr/bin/chromium through /usr/bin/chromedriver).
#
#   deploy/chromium.sh          install `chromium` and `chromium-driver` if either binary is
#                               missing (what `make browser` and so `make test` run)
#   deploy/chromium.sh check    exit 1 (naming it) if a binary is missing
#
# Idempotent: with both binaries present it does nothing. The package index is refreshed
# (apt-get update) only when the first install attempt fails, e.g. on a fresh machine.
set -euo pipefail

LOG_TAG="chromium"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

BINARIES=(/usr/bin/chromium /usr/bin/chromedriver)
PACKAGES=(chromium chromium-driver)

missing() {
    local binary
    for binary in "${BINARIES[@]}"; do
        [[ -x "$binary" ]] || printf '%s\n' "$binary"
    done
}

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2
}

install() {
    [[ -z "$(missing)" ]] && return 0
    command -v apt-get >/dev/null 2>&1 \
        || die "missing $(missing | xargs) and no apt-get: install Chromium and chromedriver"
    log "installing Debian's ${PACKAGES[*]} (missing: $(missing | xargs))"
    if ! apt_install; then
        log "install failed; refreshing the package index and trying again"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        apt_install
    fi
    [[ -z "$(missing)" ]] || die "still missing after the install: $(missing | xargs)"
}

check() {
    local absent
    absent="$(missing | xargs)"
    [[ -z "$absent" ]] || { log "missing: $absent"; return 1; }
}

case "${1:-install}" in
    install) install ;;
    check) check ;;
    *) die "usage: $0 [install|check]" ;;
esac
