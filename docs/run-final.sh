#!/bin/sh
# The runs behind docs/RESULTS.md: `onerun compare` on the official Fashion-MNIST split, 3 seeds per
# model, one after another (~55 min on the shared 2-core machine). The curve is found for the first
# seed only. APP is a built checkout of the app (default: this repository).
#   sh docs/run-final.sh [APP]
set -u
cd "$(dirname "$0")/.."
APP=${1:-.}
OUT=tmp/final
mkdir -p "$OUT"
DATA=/usr/share/datasets/fashion-mnist
run() {
  name=$1; shift
  echo "$(date -u +%T) start $name: $*"
  node "$APP/apps/trainer/dist/cli.js" compare --data-dir "$DATA" --quiet --json --out "$OUT/$name" "$@" \
    > "$OUT/$name.json" 2> "$OUT/$name.err"
  echo "$(date -u +%T) end $name rc=$?"
}
MLP="--model mlp --train-limit 20000 --budget 10 --lr 0.1 --cycles 5 --fge-cycles 4"
CNN="--model cnn --train-limit 5000 --budget 10 --lr 0.1 --cycles 5 --fge-cycles 4"
run mlp-s0 $MLP --seed 0 --curve-epochs 2 --points 21 --eval-examples 5000
run cnn-s0 $CNN --seed 0 --curve-epochs 2 --points 11 --eval-examples 2000
run mlp-s10 $MLP --seed 10 --no-curve
run cnn-s10 $CNN --seed 10 --no-curve
run mlp-s20 $MLP --seed 20 --no-curve
run cnn-s20 $CNN --seed 20 --no-curve
