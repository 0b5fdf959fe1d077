#!/usr/bin/env bash
# Packaging checks, run by .ci/run before `cargo publish --dry-run --workspace`:
# 1. the declared rust-version is the toolchain that builds and tests here (CI's only one);
# 2. each crate ships only Cargo files, its sources (an embedded page among them), README, guides (docs/*.md) and licenses;
# 3. every include_str! in a crate's sources names a file that crate ships, so its docs and
#    doctests still build from the published package.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
fail() { echo "FAILED: $*" >&2; status=1; }

declared=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n1)
actual=$(rustc --version | sed -n 's/^rustc \([0-9]*\.[0-9]*\).*/\1/p')
echo "== rust-version: declared $declared, rustc $actual"
if [ "$declared" != "$actual" ]; then
  fail "Cargo.toml declares rust-version $declared but CI builds and tests with rustc $actual;" \
       "declare the toolchain CI uses (no other can be fetched here)"
fi

allowed='^(\.cargo_vcs_info\.json|Cargo\.lock|Cargo\.toml|Cargo\.toml\.orig|LICENSE-MIT|LICENSE-APACHE|README\.md|src/.+\.rs|src/.+\.html|docs/[^/]+\.md)$'
for entry in .:stream-chat-client callbacks:stream-chat-callbacks protocol:stream-chat-protocol server:stream-chat-server; do
  dir=${entry%%:*} name=${entry#*:}
  list=$(cargo package -p "$name" --list --allow-dirty 2>/dev/null)
  count=$(wc -l <<<"$list")
  echo "== $name ships $count files"
  if extra=$(grep -vE "$allowed" <<<"$list"); then
    fail "$name ships files that are not its sources, README, docs or licenses:"
    printf '   %s\n' $extra >&2
  fi
  for required in README.md LICENSE-MIT LICENSE-APACHE; do
    grep -qxF "$required" <<<"$list" || fail "$name does not ship $required"
  done
  while IFS=: read -r file path; do
    [ -n "$file" ] || continue
    path=${path#include_str!(\"} path=${path%\")}
    rel=$(realpath -m --relative-to="$dir" "$(dirname "$file")/$path")
    if [[ $rel == ../* ]] || ! grep -qxF "$rel" <<<"$list"; then
      fail "$file includes $path, which $name does not ship (resolved: $rel)"
    fi
  done < <(find "$dir/src" -name '*.rs' -print0 | xargs -0 grep -oE 'include_str!\("[^"]+"\)' /dev/null)
done
exit $status
