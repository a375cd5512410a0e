#!/bin/sh
# Second set behind docs/v1/RESULTS.md, run after docs/v1/run-final.sh: the MLP on the full official
# training split (60 000 images), same hyperparameters, seeds 0, 10, 20 (~7 min each on the shared machine), no curve.
#   sh docs/v1/run-final-full.sh [APP]
set -u
cd "$(dirname "$0")/.."
APP=${1:-.}
OUT=tmp/final
mkdir -p "$OUT"
DATA=/usr/share/datasets/fashion-mnist
. docs/v1/run-lib.sh
MLP="--model mlp --budget 10 --lr 0.1 --cycles 5 --fge-cycles 4"
run mlp-full-s0 compare --data-dir "$DATA" $MLP --seed 0 --no-curve
run mlp-full-s10 compare --data-dir "$DATA" $MLP --seed 10 --no-curve
run mlp-full-s20 compare --data-dir "$DATA" $MLP --seed 20 --no-curve
