#!/bin/sh
# Footprint figures for BENCHMARKS.md: release binary size, start-up to ready of `paycode check`
# and `paycode pay` against a `paycode simulate` on loopback (hyperfine), and peak resident
# memory (/usr/bin/time -v). Baseline in the same run: `paycode --version` (the same binary
# loaded, no work). Needs `cargo build --release` first. Usage: sh benches/footprint.sh
set -eu
BIN=${PAYCODE_BIN:-target/release/paycode}
RUNS=${PAYCODE_BENCH_RUNS:-30}
PORT=${PAYCODE_BENCH_PORT:-18931}
[ -x "$BIN" ] || { echo "no $BIN: run cargo build --release first" >&2; exit 1; }
BIN=$(realpath "$BIN")
DIR=$(mktemp -d "${TMPDIR:-/tmp}/paycode-footprint.XXXXXX")
SIM_PID=
cleanup() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

# The simulator: demo merchant, enough no-password payments per customer for every run.
cat > "$DIR/sim.toml" <<TOML
[simulator]
daily_no_password_count = 1000000
TOML
# The till: plain HTTP to the simulator; duplicate-scan guard off so one code serves every run.
cat > "$DIR/config.toml" <<TOML
[merchant]
appid = "wxpaycodesimulator"
mch_id = "1000000001"
device_info = "footprint"
spbill_create_ip = "127.0.0.1"
[wechat]
base_url = "http://127.0.0.1:$PORT"
[checkout]
duplicate_scan_window = "0s"
[journal]
path = "data/paycode.db"
log_dir = "data/logs"
TOML
export PAYCODE_API_KEY=PaycodeSimulatorDemoKey-NotReal1
"$BIN" --config "$DIR/sim.toml" simulate --listen "127.0.0.1:$PORT" > "$DIR/sim.log" 2>&1 &
SIM_PID=$!
i=0
until "$BIN" --config "$DIR/config.toml" check > /dev/null 2>&1 || [ $i -ge 50 ]; do
    i=$((i + 1)); sleep 0.1
done
# The simulator refuses a used code (AUTHCODEEXPIRE), so every command goes through a wrapper
# that takes the next code of scenario "normal" (pays at once) from a counter; the baseline too,
# so the wrapper's cost is in every row alike.
echo 1 > "$DIR/counter"
for w in next nextcode; do
    { echo '#!/bin/sh'
      echo "n=\$(cat $DIR/counter); echo \$((n + 1)) > $DIR/counter"
      echo "code=\$(printf '130000%012d' \"\$n\")"
      if [ $w = next ]; then echo 'exec "$@"'; else echo 'exec "$@" "$code"'; fi
    } > "$DIR/$w"
    chmod +x "$DIR/$w"
done
PAY="$DIR/nextcode $BIN --config $DIR/config.toml pay --amount 0.01 --json --code"
CHECK="$DIR/next $BIN --config $DIR/config.toml check"
VERSION="$DIR/next $BIN --version"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $(ls -l "$BIN" | awk '{print $5}') bytes ($BIN)"
rc() { "$@" > "$DIR/out" 2>&1 && echo 0 || echo $?; }
echo "check exits $(rc $CHECK): $(tail -n 1 "$DIR/out")"
echo "pay exits $(rc $PAY): $(cat "$DIR/out")"
hyperfine -N --warmup 3 --runs "$RUNS" -i \
    -n 'paycode --version (baseline)' "$VERSION" \
    -n 'paycode check' "$CHECK" \
    -n 'paycode pay (normal customer)' "$PAY"
echo "peak RSS (KiB), 5 runs each:"
for name in version check pay; do
    case $name in version) cmd=$VERSION ;; check) cmd=$CHECK ;; pay) cmd=$PAY ;; esac
    printf '  %-8s' "$name"
    for _ in 1 2 3 4 5; do
        /usr/bin/time -v $cmd 2>&1 >/dev/null | awk '/Maximum resident set size/ {printf " %s", $6}'
    done
    echo
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
