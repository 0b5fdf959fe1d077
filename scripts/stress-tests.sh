#!/usr/bin/env bash
# Runs the test suite again and again while every core is busy, and counts the failures
# per test: on a loaded machine a timing race shows up as a flake, and flakes are bugs.
#
#   scripts/stress-tests.sh                       # `cargo test --workspace` 20 times under load
#   scripts/stress-tests.sh -n 5 --test sdk --filter pending_connects:: --filter timeouts::
#                                                 # those modules of the SDK's binary, 5 times
#   scripts/stress-tests.sh --ci                  # the timing-sensitive ones, 5 times (CI)
#   scripts/stress-tests.sh -n 3 --no-load -- -p stream-chat-client
#                                                 # extra cargo test arguments after `--`
#
# Each crate has one test binary (`sdk`, `server`, `protocol`, `callbacks`) with a module
# per area: pick binaries with --test and modules (or single tests) with --filter.
#
# Options:
#   -n, --runs N          how many runs (default 20)
#   --test NAME           run only the test binary NAME (repeatable; `cargo test --test`)
#   --filter PATTERN      run only tests whose name contains PATTERN (repeatable; libtest's
#                         filters, OR-ed; every chosen binary gets them all)
#   --ci                  CI's selection: -n 5 and the timing-sensitive modules of the `sdk`
#                         and `server` binaries (CI_FILTERS below)
#   --no-load             do not load the CPUs (a baseline)
#   --burners N           CPU burners to run (default: the number of cores)
#   --shell-burners       burn with shell busy-loops even when stress-ng is installed
#   --run-timeout SECS    a run taking longer fails as hung (default 1800)
#   --logs DIR            where each run's output goes (default target/stress-logs/<time>)
#   -- ARGS               passed to every `cargo test` after the defaults
#
# Every run is `cargo test --workspace --no-fail-fast [--test NAME]... [ARGS] [-- FILTER...]`:
# --no-fail-fast so that one failing binary does not hide the others. The tests are built
# once before the burners start. The load comes from `stress-ng --cpu N` when it is
# installed (`apt-get install stress-ng`), otherwise from N shell busy-loops; burners and
# a run in progress are stopped when the script exits, however it exits. Exit status: 0
# when every run passed, 1 when any test failed, 2 on bad usage or a build failure.
set -euo pipefail

runs=20
load=1
burners=""
shell_burners=0
run_timeout=1800
logs=""
tests=()
extra=()
filters=()
# The timing-sensitive modules (deadlines, back-off, reconnects, recovery, waits, faults):
# what CI runs 5 times under load.
CI_TESTS=(--test sdk --test server)
CI_FILTERS=(pending_connects:: timeouts:: tokens:: token_loads:: pause_resume:: waiting::
    reconnect:: recovery:: events:: stale_connection:: pool_waits:: faults:: classification::
    api::websocket:: api::robustness::
    uploads:: api::webhooks:: api::limits:: api::teams::)

usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        -n | --runs) runs="$2"; shift 2 ;;
        --test) tests+=("--test" "$2"); shift 2 ;;
        --filter) filters+=("$2"); shift 2 ;;
        --ci) runs=5; tests+=("${CI_TESTS[@]}"); filters+=("${CI_FILTERS[@]}"); shift ;;
        --no-load) load=0; shift ;;
        --burners) burners="$2"; shift 2 ;;
        --shell-burners) shell_burners=1; shift ;;
        --run-timeout) run_timeout="$2"; shift 2 ;;
        --logs) logs="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$runs" in '' | *[!0-9]* | 0) echo "--runs needs a positive number" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 2)
burners=${burners:-$cores}
logs=${logs:-target/stress-logs/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$logs"
cmd=(cargo test --workspace --no-fail-fast ${tests[@]+"${tests[@]}"} ${extra[@]+"${extra[@]}"})
build_cmd=("${cmd[@]}")
if [ ${#filters[@]} -gt 0 ]; then
    cmd+=(-- "${filters[@]}")
fi

# Build first, unloaded, so that no run rebuilds and the runs time only the tests. The JSON
# lines map each test executable to its package and target, to name failures unambiguously
# (two packages may both have a `tests/shutdown.rs`).
echo "building: ${build_cmd[*]} --no-run"
names="$logs/executables.tsv"
if ! "${build_cmd[@]}" --no-run --message-format=json >"$logs/build.json" 2>"$logs/build.log"; then
    tail -n 30 "$logs/build.log" >&2
    echo "the build failed (full output in $logs/build.log)" >&2
    exit 2
fi
# executable path <TAB> package/target
grep '"executable":"/' "$logs/build.json" |
    sed -E 's/.*"package_id":"[^"]*#([^"@]+)@[^"]*".*"target":\{[^}]*"name":"([^"]+)".*"executable":"([^"]+)".*/\3\t\1\/\2/' \
        >"$names" || true

burner_pids=()
test_pid=""
stop_burners() {
    local pid
    if [ -n "$test_pid" ]; then
        kill -TERM "$test_pid" 2>/dev/null || true
        wait "$test_pid" 2>/dev/null || true
        test_pid=""
    fi
    for pid in ${burner_pids[@]+"${burner_pids[@]}"}; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in ${burner_pids[@]+"${burner_pids[@]}"}; do
        wait "$pid" 2>/dev/null || true
    done
    burner_pids=()
}
trap stop_burners EXIT
trap 'stop_burners; exit 130' INT
trap 'stop_burners; exit 143' TERM

if [ "$load" = 1 ]; then
    if [ "$shell_burners" = 0 ] && command -v stress-ng >/dev/null 2>&1; then
        echo "loading $cores cores with stress-ng --cpu $burners"
        stress-ng --cpu "$burners" --quiet &
        burner_pids+=($!)
    else
        echo "loading $cores cores with $burners shell busy-loops"
        for _ in $(seq "$burners"); do
            (trap 'exit 0' TERM; while :; do :; done) &
            burner_pids+=($!)
        done
    fi
fi

# Reads one run's output; prints one line per failure: "<package>/<target>: <test>".
# A binary that failed with no failing test (a crash, an abort, a hang) is named too.
failures_of() {
    awk -v names="$names" '
        BEGIN {
            while ((getline line < names) > 0) {
                split(line, f, "\t")
                n = split(f[1], p, "/")
                label[p[n]] = f[2]
            }
        }
        /^ *Running / {
            exe = $0
            sub(/.*\(/, "", exe); sub(/\).*/, "", exe)
            n = split(exe, p, "/")
            current = (p[n] in label) ? label[p[n]] : $2
            next
        }
        /^ *Doc-tests / { current = $2 " (doctests)"; next }
        /^test .* \.\.\. FAILED$/ {
            name = $0
            sub(/^test /, "", name); sub(/ \.\.\. FAILED$/, "", name)
            print current ": " name
            failed[current] = 1
            next
        }
        /^test result: FAILED/ { failed[current] = 1; next }
        /error: test failed, to rerun pass/ || /^ *`-p .*`$/ {
            # `-p PACKAGE --test NAME`, `--lib`, `--doc`, `--bin NAME`
            what = $0
            sub(/.*`-p /, "", what); sub(/`.*/, "", what)
            rerun[what] = 1
        }
        END {
            for (r in rerun) {
                split(r, w, " ")
                if (w[2] == "--test" || w[2] == "--bin") t = w[1] "/" w[3]
                else if (w[2] == "--doc") { t = w[1]; gsub(/-/, "_", t); t = t " (doctests)" }
                else { t = w[1]; gsub(/-/, "_", t); t = w[1] "/" t }
                if (!(t in failed)) print t ": (the binary failed without a failing test: crash, abort or hang)"
            }
        }
    ' "$1"
}

summary="$logs/failures.txt"
: >"$summary"
failed_runs=0
started=$(date +%s)
for i in $(seq "$runs"); do
    log="$logs/run-$i.log"
    t0=$(date +%s)
    rc=0
    # In the background, so that a signal to this script interrupts the wait at once.
    timeout --kill-after=30 "$run_timeout" "${cmd[@]}" >"$log" 2>&1 &
    test_pid=$!
    wait "$test_pid" || rc=$?
    test_pid=""
    took=$(($(date +%s) - t0))
    found=$(failures_of "$log")
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        found=$(printf '%s\n%s' "$found" "(run $i: hung, killed after ${run_timeout}s)")
    elif [ "$rc" != 0 ] && [ -z "$found" ]; then
        found="(run $i: cargo test failed with status $rc and no failing test; see $log)"
    fi
    found=$(printf '%s\n' "$found" | sed '/^$/d')
    if [ -n "$found" ]; then
        failed_runs=$((failed_runs + 1))
        printf '%s\n' "$found" >>"$summary"
        echo "run $i/$runs: FAILED in ${took}s:"
        printf '%s\n' "$found" | sed 's/^/    /'
    else
        echo "run $i/$runs: ok in ${took}s"
    fi
done
stop_burners

echo
echo "=== ${cmd[*]}: $runs runs, load: $([ "$load" = 1 ] && echo "$burners burners on $cores cores" || echo none), $(($(date +%s) - started))s"
if [ -s "$summary" ]; then
    echo "$failed_runs of $runs runs failed. Failures per test (count of $runs runs):"
    sort "$summary" | uniq -c | sort -rn
    echo "logs: $logs"
    exit 1
fi
echo "no failures (logs: $logs)"
