#!/usr/bin/env bash
# Issue 6, goal 4 over the whole IMDb test set: both sides classify the same 25,000 id sequences
# (truncation 512), batch 32 in file order, model time only.
#
#   scripts/real-data-full.sh OUT [ids|ours|torch|both]      (default: both; ids: only write OUT/ids.jsonl)
#
# Ours is one `sharpformers bench real-data --ids` pass (about 30 min here). PyTorch's pass takes about
# 3.5 hours here, longer than one sitting, so it runs in shards of 512 sequences (16 whole batches of
# 32): every shard's batches are exactly the batches of the unsharded file-order pass, so the sum of the
# shard times is the time of that pass. Shards already in OUT/torch-shards.jsonl are skipped, so the
# script can be stopped and started again; while OUT/PAUSE exists it waits before starting the next
# shard (to free the machine for something else without disturbing a running shard).
# OUT/torch-total.jsonl is written once every shard has been measured.
#
# Environment: SHARED (default ../shared).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${SHARED:-$root/../shared}" && pwd)
out=${1:?usage: scripts/real-data-full.sh OUT [ids|ours|torch|both]}
side=${2:-both}
mkdir -p "$out"
py=/usr/bin/python3
sf="$root/src/Sharpformers.Cli/bin/Release/net10.0/sharpformers"
shard_size=512

if [[ ! -s "$out/ids.jsonl" ]]; then
  dotnet build "$root/src/Sharpformers.Cli" -c Release -nologo -v q >/dev/null
  echo "== ids: 25,000 IMDb test reviews in archive order, bert-base-uncased, truncation 512" >&2
  "$py" - "$shared/datasets/imdb/aclImdb_v1.tar.gz" > "$out/test.jsonl" <<'EOF'
import json, re, sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as archive:
    for member in archive:
        if member.isfile() and re.fullmatch(r"aclImdb/test/(pos|neg)/[^/]+\.txt", member.name):
            print(json.dumps({"text": archive.extractfile(member).read().decode("utf-8")}))
EOF
  "$sf" tokenize --model "$shared/vocab/bert-base-uncased" --max-length 512 --truncation < "$out/test.jsonl" \
    | "$py" -c 'import json, sys
for line in sys.stdin: print(json.dumps({"input_ids": json.loads(line)["input_ids"]}, separators=(",", ":")))' \
    > "$out/ids.jsonl.tmp"
  mv "$out/ids.jsonl.tmp" "$out/ids.jsonl"
fi

if [[ $side == ours || $side == both ]]; then
  echo "== ours: all $(wc -l < "$out/ids.jsonl") sequences, 2 threads" >&2
  "$sf" bench real-data --ids "$out/ids.jsonl" --threads 2 --repeats 1 --warmup 0 > "$out/ours.jsonl"
  cat "$out/ours.jsonl"
fi

if [[ $side == torch || $side == both ]]; then
  shards="$out/shards"
  mkdir -p "$shards"
  [[ -e "$shards/000.jsonl" ]] || split -d -a 3 -l "$shard_size" --additional-suffix=.jsonl "$out/ids.jsonl" "$shards/"
  touch "$out/torch-shards.jsonl"
  for file in "$shards"/*.jsonl; do
    shard=$(basename "$file" .jsonl)
    grep -q "\"shard\": \"$shard\"" "$out/torch-shards.jsonl" && continue
    while [[ -e "$out/PAUSE" ]]; do sleep 5; done
    echo "== pytorch shard $shard ($(date -u +%T))" >&2
    line=$("$py" "$shared/reference/real_data_torch.py" --ids "$file" --threads 2 --batch 32 --repeats 1)
    "$py" -c 'import json, sys, time
r = json.loads(sys.argv[1]); r["shard"] = sys.argv[2]; r["finished_utc"] = time.strftime("%H:%M:%S", time.gmtime())
print(json.dumps(r))' "$line" "$shard" >> "$out/torch-shards.jsonl"
  done
  "$py" - "$out/torch-shards.jsonl" "$(ls "$shards" | wc -l)" > "$out/torch-total.jsonl" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert len(rows) == int(sys.argv[2]), f"{len(rows)} of {sys.argv[2]} shards measured"
seconds = sum(r["median_s"] for r in rows)
sequences = sum(r["sequences"] for r in rows)
print(json.dumps({"workload": "real_data", "impl": "pytorch", "threads": 2, "batch": 32, "shards": len(rows),
                  "sequences": sequences, "tokens": sum(r["tokens"] for r in rows),
                  "padded_tokens": sum(r["padded_tokens"] for r in rows),
                  "total_s": seconds, "seq_per_s": sequences / seconds}))
EOF
  cat "$out/torch-total.jsonl"
fi
