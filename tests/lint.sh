#!/usr/bin/env bash
# The code is lint-clean: rustfmt, and clippy with warnings as errors for the rules, the
# command-line tool, and the extension built for each PostgreSQL major in PG_CONFIGS (the
# extension's code differs between majors behind cfg(feature = "pgNN")).
# Run after scripts/install.sh has set pgrx up for those majors. Prints "lint: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0; failed=0
check() {   # check NAME COMMAND...
    local name="$1" log; shift; log="$(mktemp)"
    if "$@" >"$log" 2>&1; then echo "  ok     $name"; passed=$((passed + 1))
    else echo "  FAILED $name"; sed 's/^/    /' "$log" | head -60; failed=$((failed + 1)); fi
    rm -f "$log"
}
check "cargo fmt --check" cargo fmt --all -- --check
check "clippy: rules and CLI" cargo clippy -q --locked -p sidecar-rules -p citus-sidecar-cli --all-targets -- -D warnings
for pgc in ${PG_CONFIGS:-}; do
    major="$("$pgc" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
    check "clippy: extension, pg$major" cargo clippy -q --locked -p citus-sidecar --no-default-features --features "pg$major" -- -D warnings
done
echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
