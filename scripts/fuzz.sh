#!/usr/bin/env bash
# Fuzzes the wire-facing code with libFuzzer on the stable toolchain, each target for a
# bounded time, starting from the seed corpus in fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh                      # every target, 120 s each (10 minutes in all)
#   scripts/fuzz.sh -t 30 jwt            # one target for 30 s
#   scripts/fuzz.sh --replay             # run the seed corpus once through every target (CI)
#   scripts/fuzz.sh --list               # the targets
#
# Options:
#   -t, --time SECS   how long each target runs (default 120)
#   --replay          no fuzzing: run every seed once and fail on a crash (a regression run)
#   --jobs N          libFuzzer processes per target (default 1; the machine has 2 cores)
#   --list            print the targets and exit
#
# Why libFuzzer through libfuzzer-sys, built here by hand: cargo-fuzz needs a nightly
# toolchain for its sanitizer flags, and no other toolchain can be fetched on these
# machines. libFuzzer's coverage instrumentation (`-Cpasses=sancov-module` and the
# `-sanitizer-coverage-*` LLVM arguments) is reachable from stable rustc, so this script
# sets those flags itself (what `cargo fuzz build --sanitizer none` sets) and builds
# fuzz/ as an ordinary crate. Without AddressSanitizer, crashes are panics, aborts,
# overflows (debug assertions and overflow checks are on) and broken properties (each
# target asserts a round trip or an answer's shape) — the failures safe Rust can have.
#
# New inputs found go to fuzz/target/corpus/<target>/ (not committed), crashes to
# fuzz/artifacts/<target>/. Reproduce one with
#   fuzz/target/<host>/release/<target> fuzz/artifacts/<target>/crash-...
# Fix it at its cause, add a regression test beside the code, and copy the input into
# fuzz/corpus/<target>/ so every replay runs it. Exit status: 0 when nothing crashed,
# 1 on a crash, 2 on bad usage or a build failure.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(event_decoding rest_error jwt query_filter request_bodies)
time_each=120
replay=0
jobs=1
chosen=()

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        -t | --time) time_each="$2"; shift 2 ;;
        --replay) replay=1; shift ;;
        --jobs) jobs="$2"; shift 2 ;;
        --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
        *) chosen+=("$1"); shift ;;
    esac
done
case "$time_each" in '' | *[!0-9]* | 0) echo "--time needs a positive number of seconds" >&2; exit 2 ;; esac
if [ ${#chosen[@]} -gt 0 ]; then
    for t in "${chosen[@]}"; do
        if ! printf '%s\n' "${targets[@]}" | grep -qx "$t"; then
            echo "unknown target: $t (see --list)" >&2
            exit 2
        fi
    done
    targets=("${chosen[@]}")
fi

host=$(rustc -vV | sed -n 's/^host: //p')
# What `cargo fuzz build --sanitizer none` passes; all stable rustc flags. `--target` keeps
# them off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
echo "== building the fuzz targets (stable $(rustc --version | cut -d' ' -f2), $host)"
if ! cargo build --release --locked --manifest-path fuzz/Cargo.toml --target "$host" \
    --target-dir fuzz/target --bins; then
    echo "the fuzz targets did not build" >&2
    exit 2
fi
bin_dir="fuzz/target/$host/release"

crashed=()
for t in "${targets[@]}"; do
    seeds="fuzz/corpus/$t"
    artifacts="fuzz/artifacts/$t/"
    mkdir -p "$seeds" "$artifacts"
    if [ "$replay" = 1 ]; then
        echo "== $t: replaying $(find "$seeds" -type f | wc -l) seeds"
        if ! "$bin_dir/$t" -runs=0 -artifact_prefix="$artifacts" "$seeds" >"fuzz/target/$t.log" 2>&1; then
            tail -n 40 "fuzz/target/$t.log" >&2
            crashed+=("$t")
        fi
        continue
    fi
    found="fuzz/target/corpus/$t"
    mkdir -p "$found"
    echo "== $t: fuzzing for ${time_each}s"
    log="fuzz/target/$t.log"
    rc=0
    parallel=()
    if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
    # Parallel jobs write fuzz-<n>.log in the working directory: run them in fuzz/target.
    (cd fuzz/target && "../../$bin_dir/$t" -max_total_time="$time_each" -rss_limit_mb=4096 \
        -timeout=10 -print_final_stats=1 ${parallel[@]+"${parallel[@]}"} \
        -artifact_prefix="../../$artifacts" "../../$found" "../../$seeds") >"$log" 2>&1 || rc=$?
    if [ "$jobs" -gt 1 ]; then cat fuzz/target/fuzz-*.log >>"$log" 2>/dev/null || true; rm -f fuzz/target/fuzz-*.log; fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' |
        awk '{ n += $1 } END { print n + 0 }')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo '?')
    corpus=$(find "$found" -type f | wc -l)
    if [ "$rc" != 0 ]; then
        crashed+=("$t")
        echo "   CRASH (exit $rc): $(grep -m1 -E 'panicked|ERROR: libFuzzer' "$log" || true)"
        ls -1 "$artifacts" | sed 's/^/   artifact: /'
    else
        echo "   ok: $execs executions, coverage $cov, corpus $corpus inputs"
    fi
done

if [ ${#crashed[@]} -gt 0 ]; then
    echo "crashed: ${crashed[*]} (logs in fuzz/target/<target>.log, inputs in fuzz/artifacts/)"
    exit 1
fi
echo "no crashes"
