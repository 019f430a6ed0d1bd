#!/usr/bin/env bash
# Reproduces models/default-sentiment (see its README.md): two `sharpformers train` runs on SST-2 train
# + IMDb train, 5% of them held out (seed 42) for the per-epoch evaluation. About 35 minutes per stage
# on 2 cores. Usage: models/recipes/train-default-sentiment.sh OUT_DIR   (../shared beside the repo)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$(cd "${SHARED:-$root/../shared}" && pwd)
out=${1:?usage: $0 OUT_DIR}
sf=(dotnet run --project "$root/src/Sharpformers.Cli" -c Release --)
data=(--train "$shared/datasets/sst2/train.tsv" --train "$shared/datasets/imdb/aclImdb_v1.tar.gz"
      --validation-split-percentage 5 --labels NEGATIVE,POSITIVE --max-length 512 --group-by-length
      --per-device-train-batch-size 16 --per-device-eval-batch-size 64 --weight-decay 0.01 --num-train-epochs 2
      --eval-strategy epoch --save-strategy epoch --load-best-model-at-end --metric-for-best-model accuracy
      --logging-steps 100 --disable-tqdm --seed 42)

# The tokenizer keeps the END of reviews longer than 512 tokens (truncation_side "left"): the verdict of a
# review is usually in its last lines (Sun et al. 2019 found tail truncation best on IMDb). SST-2
# sentences are never truncated, so they are unaffected.
mkdir -p "$out"
rm -rf "$out/tokenizer" && cp -r "$root/tests/fixtures/vocab/bert-base-uncased" "$out/tokenizer"
sed -i 's/^  "tokenizer_class"/  "truncation_side": "left",\n  "tokenizer_class"/' "$out/tokenizer/tokenizer_config.json"
grep -q '"truncation_side": "left"' "$out/tokenizer/tokenizer_config.json"

# Stage 1: from scratch (seeded HF-style initialisation of the config), lr 1e-4 with 6% warmup.
"${sf[@]}" train --config-name "$root/models/recipes/default-sentiment-init.json" --tokenizer-name "$out/tokenizer" \
    "${data[@]}" --learning-rate 1e-4 --warmup-ratio 0.06 --output-dir "$out/stage1"

# Stage 2: the seed's fine-tuning recipe on the stage-1 model: lr 2e-5, batch 16, 2 epochs, weight decay
# 0.01, eval and save each epoch, best at end; saved in float16.
"${sf[@]}" train --model "$out/stage1" "${data[@]}" --learning-rate 2e-5 --save-dtype float16 --output-dir "$out/stage2"
echo "model: $out/stage2 (copy config.json, model.safetensors and the tokenizer files into models/default-sentiment)"
