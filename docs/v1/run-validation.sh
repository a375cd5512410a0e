#!/bin/sh
# Hyperparameter choice on a validation split (never the test set): the "test" files of
# tmp/fmnist-val are the last 10 000 official TRAINING examples (docs/make-val-split.mjs).
# One seed (0), same sizes and budget as the final runs. Sequential, ~25 min on a loaded 2-core box.
set -u
cd "$(dirname "$0")/.."
node docs/make-val-split.mjs
OUT=tmp/val
mkdir -p "$OUT"
APP=.
. docs/v1/run-lib.sh
VAL="--data-dir tmp/fmnist-val --no-curve --force --seed 0 --budget 10"
run mlp-lr0.05 compare $VAL --model mlp --train-limit 20000 --lr 0.05
run mlp-lr0.1 compare $VAL --model mlp --train-limit 20000 --lr 0.1
run mlp-lr0.2 compare $VAL --model mlp --train-limit 20000 --lr 0.2 --methods baseline,sse
run cnn-lr0.05 compare $VAL --model cnn --train-limit 5000 --lr 0.05 --methods baseline,sse
run cnn-lr0.1 compare $VAL --model cnn --train-limit 5000 --lr 0.1 --methods baseline,sse
# Second round, after choosing lr = 0.1 from the runs above: SSE cycles M and FGE cycles.
run mlp-lr0.1-M3 compare $VAL --model mlp --train-limit 20000 --lr 0.1 --methods sse --cycles 3
run mlp-lr0.1-M8 compare $VAL --model mlp --train-limit 20000 --lr 0.1 --methods sse --cycles 8
run mlp-lr0.1-fge2 compare $VAL --model mlp --train-limit 20000 --lr 0.1 --methods baseline,fge --fge-cycles 2
