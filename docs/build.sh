#!/usr/bin/env bash
# Builds the book (docs/src) into docs/book with mdbook, installing the pinned
# mdbook with cargo first if it is missing (about 3 minutes on 2 cores):
#
#     docs/build.sh
#
# The book's Rust code blocks are compiled and run as doc tests of the futurepool crate
# (src/lib.rs, module `book`), so `cargo test --workspace` checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
MDBOOK_VERSION=0.5.4
if ! command -v mdbook >/dev/null || [ "$(mdbook --version)" != "mdbook v$MDBOOK_VERSION" ]; then
  cargo install mdbook --locked --version "$MDBOOK_VERSION"
fi
mdbook build docs
