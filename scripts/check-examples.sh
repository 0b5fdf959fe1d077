#!/usr/bin/env bash
# Runs every example (examples/*.rs) and fails when one fails or when its output shows Rust
# plumbing a reader should not see: `Some(..)`/`None`/`Ok(..)`/`Err(..)` debug output.
# gui_event_loop must also print its lines in frame order (each line is tagged `frame N:`).
# Used by .ci/run; run it from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
for file in examples/*.rs; do
  name=$(basename "$file" .rs)
  echo "== example $name"
  if ! out=$(cargo run -q --example "$name" 2>&1); then
    printf '%s\n' "$out"
    echo "FAILED: example $name exited with an error" >&2
    status=1
    continue
  fi
  printf '%s\n' "$out"
  if leaks=$(grep -nE '\b(Some|Ok|Err)\(|\bNone\b' <<<"$out"); then
    echo "FAILED: example $name prints Option/Result debug output:" >&2
    printf '%s\n' "$leaks" >&2
    status=1
  fi
  if [ "$name" = gui_event_loop ]; then
    if ! awk '/^frame +[0-9]+:/ { n = $2 + 0; if (n < last) { bad = 1; print "out of order: " $0 > "/dev/stderr" } last = n }
              END { exit bad }' <<<"$out"; then
      echo "FAILED: gui_event_loop printed a line after a later frame" >&2
      status=1
    fi
    if ! grep -qE '^frame +[0-9]+: connected as bender' <<<"$out"; then
      echo "FAILED: gui_event_loop did not show the connect callback's line" >&2
      status=1
    fi
  fi
done
exit $status
