#!/usr/bin/env bash
# Throughput and peak-RSS benchmark on a generated ~200 MiB WAL (never committed).
# Usage: bench/run.sh [RECORDS]   (default 131072 records, payloads 64 B..4 KiB)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-131072}
cargo build --release --locked -q
bin=target/release/walkit
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
wal=$dir/bench.wal

# Best wall time of 5 runs (nanosecond clock) and the largest peak RSS; prints
# "seconds max_rss_kib".
measure() {
  local best="" rss=0
  for _ in 1 2 3 4 5; do
    local t0 t1 t m
    t0=$(date +%s%N)
    /usr/bin/time -o "$dir/time" -f "%M" "$@" >/dev/null 2>/dev/null || true
    t1=$(date +%s%N)
    t=$(awk "BEGIN{print ($t1-$t0)/1e9}")
    m=$(tail -n 1 "$dir/time")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $rss"
}

gen_start=$(date +%s.%N)
$bin gen "$wal" --records "$records" --seed 7 --payload-size 64..4096 2>/dev/null
gen_end=$(date +%s.%N)
bytes=$(stat -c %s "$wal")
cat "$wal" >/dev/null # warm the page cache
printf 'WAL: %d records, %d bytes (%.1f MiB); gen took %.2f s\n' "$records" "$bytes" \
  "$(awk "BEGIN{print $bytes/1048576}")" "$(awk "BEGIN{print $gen_end-$gen_start}")"
printf '%-28s %10s %12s %14s %10s\n' command seconds "MB/s" "records/s" "RSS MiB"
row() {
  local name=$1; shift
  read -r t rss < <(measure "$@")
  printf '%-28s %10.3f %12.0f %14.0f %10.1f\n' "$name" "$t" \
    "$(awk "BEGIN{print $bytes/1e6/$t}")" "$(awk "BEGIN{print $records/$t}")" "$(awk "BEGIN{print $rss/1024}")"
}
row "verify" $bin verify "$wal"
row "stats" $bin stats "$wal"
row "dump --format jsonl" $bin dump --format jsonl "$wal"
row "dump jsonl --no-decode" $bin dump --format jsonl --no-decode "$wal"
if $bin replay --help >/dev/null 2>&1; then
  row "replay --summary" $bin replay --summary "$wal"
fi
if $bin append --help >/dev/null 2>&1; then
  $bin dump --format jsonl "$wal" > "$dir/in.jsonl"
  rm -f "$dir/copy.wal"
  row "append --jsonl (copy)" sh -c "rm -f '$dir/copy.wal'; $bin append '$dir/copy.wal' --jsonl '$dir/in.jsonl'"
  cmp "$wal" "$dir/copy.wal" && echo "append round trip: byte-identical"
fi

# Typed single appends: process start to fsync, median of 100.
lat_wal=$dir/latency.wal
$bin append "$lat_wal" noop >/dev/null
times=()
for i in $(seq 100); do
  # $EPOCHREALTIME needs no extra process, so only walkit itself is timed.
  t0=${EPOCHREALTIME/./}
  $bin append "$lat_wal" put --tenant 1 --collection users --id "u$i" --value-json '{"a":1}' >/dev/null
  t1=${EPOCHREALTIME/./}
  times+=($(( t1 - t0 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
printf 'typed append: median %.2f ms, p90 %.2f ms (100 runs, process start to fsync)\n' \
  "$(echo "$sorted" | sed -n 50p | awk '{print $1/1000}')" "$(echo "$sorted" | sed -n 90p | awk '{print $1/1000}')"
