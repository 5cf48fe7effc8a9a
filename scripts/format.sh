#!/usr/bin/env bash
# Formats every C and C++ file tracked by git with the repo's .clang-format.
# --check: change nothing, exit 1 when a file would change (for CI or a pre-commit hook).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(-i)
[ "${1:-}" = "--check" ] && mode=(--dry-run --Werror)
git ls-files -z '*.c' '*.h' '*.cpp' '*.hpp' | xargs -0 -r clang-format "${mode[@]}"
