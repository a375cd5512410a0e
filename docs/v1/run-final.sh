#!/bin/sh
# The runs behind docs/v1/RESULTS.md: `onerun compare` on the official Fashion-MNIST split, 3 seeds per
# model, one after another (~55 min on the shared 2-core machine). The curve is found for the first
# seed only. APP is a built checkout of the app (default: this repository).
#   sh docs/v1/run-final.sh [APP]
set -u
cd "$(dirname "$0")/.."
APP=${1:-.}
OUT=tmp/final
mkdir -p "$OUT"
DATA=/usr/share/datasets/fashion-mnist
. docs/v1/run-lib.sh
MLP="--model mlp --train-limit 20000 --budget 10 --lr 0.1 --cycles 5 --fge-cycles 4"
CNN="--model cnn --train-limit 5000 --budget 10 --lr 0.1 --cycles 5 --fge-cycles 4"
run mlp-s0 compare --data-dir "$DATA" $MLP --seed 0 --curve-epochs 2 --points 21 --eval-examples 5000
run cnn-s0 compare --data-dir "$DATA" $CNN --seed 0 --curve-epochs 2 --points 11 --eval-examples 2000
run mlp-s10 compare --data-dir "$DATA" $MLP --seed 10 --no-curve
run cnn-s10 compare --data-dir "$DATA" $CNN --seed 10 --no-curve
run mlp-s20 compare --data-dir "$DATA" $MLP --seed 20 --no-curve
run cnn-s20 compare --data-dir "$DATA" $CNN --seed 20 --no-curve
