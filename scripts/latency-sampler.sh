#!/usr/bin/env bash
# Issue 6, goal 2 over a long sitting: every INTERVAL seconds (default 1200), wait for the running
# benchmark to reach a boundary, measure batch 1 latency, and let it go on.
#
#   scripts/latency-sampler.sh OUT [INTERVAL]
#
# Meant to run beside `scripts/real-data-full.sh OUT both`: it holds that script between shards through
# OUT/PAUSE (only when no PAUSE is there already) and waits until no PyTorch shard, `sharpformers bench`
# or `dotnet` process is left, so each sample has the machine to itself. A sample is
#   OUT/latency-samples.jsonl        `sharpformers bench latency`, batch 1 × 16 and × 128, 1 and 2 threads
#   OUT/latency-samples-torch.jsonl  the PyTorch reference right after, batch 1 × 16, 2 threads
#   OUT/latency-steal.jsonl          the VM's steal time (ticks of 1/100 s) over each of the two
# 200 timed calls each after 20 warm-up calls; every line starts with the sample's "utc". Stop it with kill.
#
# Environment: SHARED (default ../shared).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${SHARED:-$root/../shared}" && pwd)
out=${1:?usage: scripts/latency-sampler.sh OUT [INTERVAL]}
interval=${2:-1200}
mkdir -p "$out"
py=/usr/bin/python3
sf="$root/src/Sharpformers.Cli/bin/Release/net10.0/sharpformers"
[[ -x $sf ]] || { echo "build the CLI first: dotnet build src/Sharpformers.Cli -c Release" >&2; exit 1; }

steal() { awk '/^cpu /{print $9}' /proc/stat; }
busy() { pgrep -f 'real_data_torch.py|sharpformers bench|dotnet' >/dev/null; }
stamp() { sed "s/^{/{\"utc\":\"$1\",/"; }

while true; do
  if [[ ! -e "$out/PAUSE" ]]; then
    echo sampler > "$out/PAUSE"
    # Twice, a few seconds apart: the shard runner starts its next process right after the last one ends.
    while busy; do sleep 2; done; sleep 3
    while busy; do sleep 2; done
    utc=$(date -u +%T)
    s0=$(steal)
    "$sf" bench latency --batch 1 --seq 16,128 --threads 1,2 --repeats 200 --warmup 20 | stamp "$utc" >> "$out/latency-samples.jsonl"
    s1=$(steal)
    "$py" "$shared/reference/pure_torch_distilbert.py" --bench --threads 2 --batch 1 --seq 16 --warmup 20 --repeats 200 \
      | grep '^{' | stamp "$utc" >> "$out/latency-samples-torch.jsonl"
    s2=$(steal)
    echo "{\"utc\":\"$utc\",\"steal_ticks_ours\":$((s1 - s0)),\"steal_ticks_torch\":$((s2 - s1))}" >> "$out/latency-steal.jsonl"
    [[ $(cat "$out/PAUSE" 2>/dev/null) == sampler ]] && rm -f "$out/PAUSE"
  fi
  sleep "$interval"
done
