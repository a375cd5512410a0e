"""Reads every TensorBoard event file under a folder with TensorBoard's own reader
(EventAccumulator) and prints {run: {tag: [[step, value], ...]}} as JSON. Used by
tensorboard.test.ts to check the files the app writes in plain TypeScript."""
import json
import os
import sys

from tensorboard.backend.event_processing import event_accumulator

root = sys.argv[1]
out = {}
for dirpath, _, files in os.walk(root):
    if not any(f.startswith("events.out.tfevents.") for f in files):
        continue
    acc = event_accumulator.EventAccumulator(dirpath, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    run = os.path.relpath(dirpath, root)
    out[run] = {
        tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]
    }
    out[run]["__file_version"] = acc.file_version
print(json.dumps(out))
