#!/bin/sh
# SWA at 1.5x the budget (the SWA paper's comparison: SGD at budget B vs SWA at 1.25-1.5 B):
# 15 epochs, the official schedule decaying to swaLr = lr/2 until epoch 8 (--swa-start 0.54, as
# the paper's 161 of 300 epochs), then averaging after epochs 8..15 (8 models), BN recomputed.
# Same seeds as the SWA runs inside docs/v1/run-final.sh's comparisons (compare seed + 2).
#   sh docs/v1/run-final-swa15.sh [APP]
set -u
cd "$(dirname "$0")/.."
APP=${1:-.}
OUT=tmp/final
mkdir -p "$OUT"
DATA=/usr/share/datasets/fashion-mnist
. docs/v1/run-lib.sh
for s in 0 10 20; do
  run swa15-mlp-s$s train --method swa --data-dir "$DATA" --model mlp --train-limit 20000 --epochs 15 --lr 0.1 --swa-start 0.54 --seed $((s + 2))
  run swa15-cnn-s$s train --method swa --data-dir "$DATA" --model cnn --train-limit 5000 --epochs 15 --lr 0.1 --swa-start 0.54 --seed $((s + 2))
done
