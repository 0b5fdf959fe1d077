#!/usr/bin/env bash
# Runs every example (examples/*.rs) and fails when one fails or when its output shows Rust
# plumbing a reader should not see: `Some(..)`/`None`/`Ok(..)`/`Err(..)` debug output.
# gui_event_loop (its stdout is not a terminal here, so it prints each frame as lines tagged
# `frame N:`) must also print its frames in order, and its last frame must show the state
# its scripted second user left: the channel list sorted by last message with the unread
# badges, and the open channel's messages with the reaction, edit, delete and read receipt.
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
    if ! grep -qE '^frame +[0-9]+: Stream Chat: connected as bender \(Bender\)' <<<"$out"; then
      echo "FAILED: gui_event_loop never showed bender connected" >&2
      status=1
    fi
    # The last frame's lines, without their tag, must hold these lines in this order.
    last=$(awk '/^frame +[0-9]+:/ { n = $2 + 0 } END { print n }' <<<"$out")
    final=$(sed -nE "s/^frame +${last}: //p" <<<"$out")
    expected=(
      "^status: done: fry's script is in the state$"
      '^Channels \(3\), 5 unread$'
      '^   Delivery +\[3\]$'
      '^ > Planet Express *$'
      '^   Slurm +\[2\]$'
      '^   Bender +Bite my shiny metal ass  \[love 1\]$'
      '^ +seen by Fry$'
      '^   Fry +Pizza is here, two of them  \(edited\)$'
      '^   Fry +\(deleted\)$'
    )
    rest=$final
    for line in "${expected[@]}"; do
      if ! at=$(grep -nE -m1 "$line" <<<"$rest"); then
        echo "FAILED: gui_event_loop's last frame (frame $last) lacks, or misorders, a line matching: $line" >&2
        status=1
        break
      fi
      rest=$(tail -n +"$((${at%%:*} + 1))" <<<"$rest")
    done
    if grep -qE 'typing|\(sending\)|\(failed\)' <<<"$final"; then
      echo "FAILED: gui_event_loop's last frame still shows typing or an unsent message" >&2
      status=1
    fi
  fi
done
exit $status
