#!/bin/sh
# Hyperparameter choice on a validation split (never the test set): the "test" files of
# tmp/fmnist-val are the last 10 000 official TRAINING examples (docs/make-val-split.mjs).
# One seed (0), same sizes and budget as the final runs. Sequential, ~25 min on a loaded 2-core box.
set -u
cd "$(dirname "$0")/.."
node docs/make-val-split.mjs
OUT=tmp/val
mkdir -p "$OUT"
CLI="node apps/trainer/dist/cli.js compare --data-dir tmp/fmnist-val --no-curve --quiet --json --force --seed 0 --budget 10"
run() { name=$1; shift; echo "$(date -u +%T) start $name: $*"; $CLI --out "$OUT/$name" "$@" > "$OUT/$name.json" 2> "$OUT/$name.err"; echo "$(date -u +%T) end $name rc=$?"; }
run mlp-lr0.05 --model mlp --train-limit 20000 --lr 0.05
run mlp-lr0.1 --model mlp --train-limit 20000 --lr 0.1
run mlp-lr0.2 --model mlp --train-limit 20000 --lr 0.2 --methods baseline,sse
run cnn-lr0.05 --model cnn --train-limit 5000 --lr 0.05 --methods baseline,sse
run cnn-lr0.1 --model cnn --train-limit 5000 --lr 0.1 --methods baseline,sse
# Second round, after choosing lr = 0.1 from the runs above: SSE cycles M and FGE cycles.
run mlp-lr0.1-M3 --model mlp --train-limit 20000 --lr 0.1 --methods sse --cycles 3
run mlp-lr0.1-M8 --model mlp --train-limit 20000 --lr 0.1 --methods sse --cycles 8
run mlp-lr0.1-fge2 --model mlp --train-limit 20000 --lr 0.1 --methods baseline,fge --fge-cycles 2
