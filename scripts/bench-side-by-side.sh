#!/usr/bin/env bash
# Every measurement of BENCHMARKS.md in one sitting: `sharpformers bench` and the PyTorch reference
# (../shared/reference, Debian's python3-torch with OpenBLAS) on the same shapes and thread counts,
# alternating, so the two sides see the same machine. One JSON line per measurement in OUT/*.jsonl.
#
#   scripts/bench-side-by-side.sh [OUT]          (default OUT: bench-results/, ignored by git)
#
# Environment: SHARED (default ../shared), QUICK=1 (fewer repeats, for a smoke run),
# REAL_DATA_LIMIT (IMDb test reviews for the real-data workload, spread evenly; default 256: a full
# pass over all 25,000 takes over an hour per side here).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${SHARED:-$root/../shared}" && pwd)
out=${1:-$root/bench-results}
mkdir -p "$out"
py=/usr/bin/python3
ref="$shared/reference"
imdb="$shared/datasets/imdb/aclImdb_v1.tar.gz"
limit=${REAL_DATA_LIMIT:-256}
repeats=10; train_repeats=5; latency_repeats=50
if [[ "${QUICK:-0}" == 1 ]]; then repeats=2; train_repeats=2; latency_repeats=5; limit=64; fi

dotnet build "$root/src/Sharpformers.Cli" -c Release -nologo -v q >/dev/null
sf="$root/src/Sharpformers.Cli/bin/Release/net10.0/sharpformers"
have_torch=0
if "$py" -c "import torch" 2>/dev/null; then have_torch=1; else echo "note: no torch under $py; PyTorch lines skipped" >&2; fi

machine="$out/machine.txt"
{
  date -u +%FT%TZ
  lscpu | grep -E "Model name|^CPU\(s\)|Flags" | sed 's/\(Flags:\).*\(avx512f\).*/\1 ... \2 .../'
  free -g | head -2
  uptime
  dotnet --version
  [[ $have_torch == 1 ]] && "$py" -c "import torch; print('torch', torch.__version__)"
} > "$machine"
cat "$machine" >&2

torch_bench() { # threads batch seq [extra...]
  local t=$1 b=$2 s=$3; shift 3
  [[ $have_torch == 1 ]] && "$py" "$ref/pure_torch_distilbert.py" --bench --threads "$t" --batch "$b" --seq "$s" "$@"
}

echo "== sgemm" >&2
"$sf" bench sgemm --sizes 512,1024,2048 --threads 1,2 --repeats "$repeats" > "$out/sgemm.jsonl"
"$sf" bench sgemm --sizes 512,1024,2048 --threads 1,2 --repeats "$repeats" --int8 > "$out/sgemm-int8.jsonl"
if [[ $have_torch == 1 ]]; then
  for t in 1 2; do
    OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE "$py" - "$t" "$repeats" <<'EOF'
import sys, time, json, statistics, torch
threads, repeats = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
for n in (512, 1024, 2048):
    a, b = torch.rand(n, n) * 2 - 1, torch.rand(n, n) * 2 - 1
    for _ in range(2): torch.mm(a, b)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); torch.mm(a, b); times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({"workload": "sgemm", "impl": "pytorch", "n": n, "threads": threads, "median_s": med, "gflops": 2 * n ** 3 / med / 1e9}))
EOF
  done > "$out/sgemm-torch.jsonl"
fi

echo "== throughput b32 x s128 (distilbert-base, bert-base)" >&2
: > "$out/throughput.jsonl"
for t in 1 2; do
  "$sf" bench throughput --shape distilbert-base --threads "$t" --repeats "$repeats" >> "$out/throughput.jsonl"
  "$sf" bench throughput --shape distilbert-base --threads "$t" --repeats "$repeats" --quantize int8 >> "$out/throughput.jsonl"
  torch_bench "$t" 32 128 --repeats "$repeats" >> "$out/throughput.jsonl" || true
done
"$sf" bench throughput --shape bert-base --threads 1,2 --repeats "$repeats" >> "$out/throughput.jsonl"

echo "== latency b1 x s16, b1 x s128" >&2
: > "$out/latency.jsonl"
for t in 1 2; do
  "$sf" bench latency --threads "$t" --repeats "$latency_repeats" --warmup 5 >> "$out/latency.jsonl"
  torch_bench "$t" 1 16 --repeats "$latency_repeats" >> "$out/latency.jsonl" || true
  torch_bench "$t" 1 128 --repeats "$latency_repeats" >> "$out/latency.jsonl" || true
done

echo "== training step b16 x s128" >&2
: > "$out/train-step.jsonl"
for t in 1 2; do
  "$sf" bench train-step --threads "$t" --repeats "$train_repeats" --warmup 2 >> "$out/train-step.jsonl"
  torch_bench "$t" 16 128 --train --repeats "$train_repeats" >> "$out/train-step.jsonl" || true
done

echo "== cold start, tokenizer" >&2
"$sf" bench cold-start --threads 2 --repeats 5 > "$out/cold-start.jsonl"
"$sf" bench tokenizer --threads 1,2 --repeats 3 --data "$imdb" > "$out/tokenizer.jsonl"

echo "== real data: IMDb test ($limit reviews spread evenly), truncation 512, batch 32" >&2
"$sf" bench real-data --data "$imdb" --limit "$limit" --threads 2 --repeats 3 --warmup 0 --write-ids "$out/imdb-ids.jsonl" > "$out/real-data.jsonl"
"$sf" bench real-data --data "$imdb" --limit "$limit" --threads 2 --repeats 3 --warmup 0 --quantize int8 >> "$out/real-data.jsonl"
if [[ $have_torch == 1 ]]; then
  "$py" "$ref/real_data_torch.py" --ids "$out/imdb-ids.jsonl" --threads 2 --batch 32 --repeats 3 >> "$out/real-data.jsonl"
fi
rm -f "$out/imdb-ids.jsonl"

echo "== accuracy of the default model, float32 and int8 (SST-2 dev)" >&2
"$sf" bench accuracy --model "$root/models/default-sentiment" --tsv "$shared/datasets/sst2/dev.tsv" --threads 2 > "$out/accuracy.jsonl"

echo "done: $out" >&2
