#!/usr/bin/python3
"""The thread-count benchmark of `torchlabs cifar10` (issue: batch 4 on two intra-op threads is erratic).

Generates a 20,000-image CIFAR-format set (make_cifar.py), then runs `torchlabs cifar10 --epochs 1` REPS times for each of
--threads default / 1 / 2, interleaved, first on a quiet machine and then with a busy process on one core (as on a shared
machine), and writes a Markdown section (run.sh hands it to driver.py, which puts it into docs/performance.md): min, median, max and max/median of the epoch seconds.
Usage: threads.py --torchlabs PATH [--reps 5] [--out FILE]
"""
import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--torchlabs", required=True)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--images", type=int, default=20000)
ap.add_argument("--out", default="/tmp/torchlabs-threads.md")
args = ap.parse_args()
here = os.path.dirname(os.path.abspath(__file__))


def spin(stop):
    while not stop.is_set():
        pass


def epoch(data, threads, out):
    cmd = [args.torchlabs, "cifar10", "--data", data, "--epochs", "1", "--limit-test", "1000", "--out", out, "--format", "json"]
    if threads != "default":
        cmd += ["--threads", threads]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout)["epochSeconds"][0]


def measure(data, out, label):
    times = {t: [] for t in ["default", "1", "2"]}
    for r in range(args.reps):
        for t in times:
            print(f"{label}: --threads {t}, run {r + 1}/{args.reps}", file=sys.stderr, flush=True)
            times[t].append(epoch(data, t, out))
    return times


with tempfile.TemporaryDirectory() as d:
    subprocess.run(["/usr/bin/python3", os.path.join(here, "make_cifar.py"), d, str(args.images), "1000"], check=True)
    out = os.path.join(d, "out")
    quiet = measure(d, out, "quiet")
    stop = multiprocessing.Event()
    busy = multiprocessing.Process(target=spin, args=(stop,))
    busy.start()
    try:
        loaded = measure(d, out, "one core busy")
    finally:
        stop.set()
        busy.join()

info = json.loads(subprocess.run([args.torchlabs, "info", "--format", "json"], capture_output=True, text=True).stdout)
lines = [
    "## Threads: the cifar10 epoch, default against fixed thread counts",
    "",
    f"Measured by `scripts/bench/threads.py` on {time.strftime('%Y-%m-%d')} ({os.cpu_count()} cores): `torchlabs cifar10 --epochs 1` (batch 4) on "
    f"{args.images:,} generated CIFAR-format images, {args.reps} runs of each setting, interleaved; seconds per epoch.",
    f"The rule: {info['threadRule']}.",
    "",
    "| machine | --threads | min | median | max | max/median |",
    "|---|---|---|---|---|---|",
]
ok = True
for label, times in [("quiet", quiet), ("another process on one core", loaded)]:
    for t, v in times.items():
        med = statistics.median(v)
        lines.append(f"| {label} | {t if t != 'default' else 'default (1)'} | {min(v):.2f} | {med:.2f} | {max(v):.2f} | {max(v) / med:.2f} |")
    best = min(statistics.median(times["1"]), statistics.median(times["2"]))
    ok &= max(times["default"]) / statistics.median(times["default"]) <= 1.3 and statistics.median(times["default"]) <= best * 1.05
lines += ["", f"Target (default max/median ≤ 1.3 and median no slower than the best fixed count, within 5 %): {'met' if ok else '**not met**'}."]
tmp = args.out + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(tmp, args.out)
print("\n".join(lines))
