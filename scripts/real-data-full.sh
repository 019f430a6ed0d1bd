#!/usr/bin/env bash
# Issue 6, goal 4 over the whole IMDb test set: both sides classify the same 25,000 id sequences
# (truncation 512, bert-base-uncased), batch 32, model time only, 2 threads.
#
#   scripts/real-data-full.sh OUT [both|torch|ours|ids]      (default: both)
#
# PyTorch's pass takes about 3.5 hours here, longer than one sitting, so it runs in shards of 512
# sequences (16 whole batches of 32, file order): every shard's batches are exactly the batches of the
# unsharded file-order pass, so the sum of the shard times is the time of that pass.
#   both   each shard is classified by PyTorch and then by Sharpformers (`bench real-data --ids`), so
#          the two sides alternate and see the same machine; OUT/torch-shards.jsonl, OUT/ours-shards.jsonl
#   torch  PyTorch's shards only
#   ours   one Sharpformers pass over all 25,000 at once (about 30 minutes here); OUT/ours.jsonl
#   ids    only write OUT/ids.jsonl (the reviews in archive order, tokenized by `bench real-data --only-write-ids`)
# Shards already measured are skipped, so the script can be stopped and started again; while OUT/PAUSE
# exists it waits before starting the next shard (to free the machine without disturbing a running
# one). OUT/totals.jsonl is written once every shard has been measured.
#
# Environment: SHARED (default ../shared).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${SHARED:-$root/../shared}" && pwd)
out=${1:?usage: scripts/real-data-full.sh OUT [both|torch|ours|ids]}
side=${2:-both}
mkdir -p "$out"
py=/usr/bin/python3
sf="$root/src/Sharpformers.Cli/bin/Release/net10.0/sharpformers"
shard_size=512

dotnet build "$root/src/Sharpformers.Cli" -c Release -nologo -v q >/dev/null

if [[ ! -s "$out/ids.jsonl" ]]; then
  echo "== ids: 25,000 IMDb test reviews in archive order, bert-base-uncased, truncation 512" >&2
  "$sf" bench real-data --data "$shared/datasets/imdb/aclImdb_v1.tar.gz" --tokenizer "$shared/vocab/bert-base-uncased" \
    --max-length 512 --write-ids "$out/ids.jsonl" --only-write-ids
fi

if [[ $side == ours ]]; then
  echo "== ours: all $(wc -l < "$out/ids.jsonl") sequences, 2 threads" >&2
  "$sf" bench real-data --ids "$out/ids.jsonl" --threads 2 --repeats 1 --warmup 0 > "$out/ours.jsonl"
  cat "$out/ours.jsonl"
fi

measured() { grep -q "\"shard\": \"$2\"" "$1"; }
record() { # FILE SHARD JSON
  "$py" -c 'import json, sys, time
r = json.loads(sys.argv[1]); r["shard"] = sys.argv[2]; r["finished_utc"] = time.strftime("%H:%M:%S", time.gmtime())
print(json.dumps(r))' "$3" "$2" >> "$1"
}

if [[ $side == torch || $side == both ]]; then
  shards="$out/shards"
  mkdir -p "$shards"
  [[ -e "$shards/000.jsonl" ]] || split -d -a 3 -l "$shard_size" --additional-suffix=.jsonl "$out/ids.jsonl" "$shards/"
  touch "$out/torch-shards.jsonl" "$out/ours-shards.jsonl"
  for file in "$shards"/*.jsonl; do
    shard=$(basename "$file" .jsonl)
    if ! measured "$out/torch-shards.jsonl" "$shard"; then
      while [[ -e "$out/PAUSE" ]]; do sleep 5; done
      echo "== pytorch shard $shard ($(date -u +%T))" >&2
      record "$out/torch-shards.jsonl" "$shard" \
        "$("$py" "$shared/reference/real_data_torch.py" --ids "$file" --threads 2 --batch 32 --repeats 1)"
    fi
    if [[ $side == both ]] && ! measured "$out/ours-shards.jsonl" "$shard"; then
      while [[ -e "$out/PAUSE" ]]; do sleep 5; done
      echo "== sharpformers shard $shard ($(date -u +%T))" >&2
      record "$out/ours-shards.jsonl" "$shard" "$("$sf" bench real-data --ids "$file" --threads 2 --repeats 1)"
    fi
  done
  "$py" - "$(ls "$shards" | wc -l)" "$out/torch-shards.jsonl" "$out/ours-shards.jsonl" > "$out/totals.jsonl" <<'EOF'
import json, os, sys
expected = int(sys.argv[1])
for path in sys.argv[2:]:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    if not rows: continue
    assert len(rows) == expected, f"{path}: {len(rows)} of {expected} shards measured"
    seconds = sum(r["median_s"] for r in rows)
    sequences = sum(r["sequences"] for r in rows)
    print(json.dumps({"workload": "real_data", "impl": rows[0].get("impl", "sharpformers"), "threads": 2,
                      "batch": 32, "shards": len(rows), "sequences": sequences,
                      "tokens": sum(r["tokens"] for r in rows), "total_s": seconds,
                      "seq_per_s": sequences / seconds, "from": os.path.basename(path)}))
EOF
  cat "$out/totals.jsonl"
fi
