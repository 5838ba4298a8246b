#!/usr/bin/python3
"""Runs each benchmark case for TorchLabs and its peer, alternating, and writes docs/performance.md (see run.sh)."""
import argparse
import atexit
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--torchlabs", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--only", action="append", default=[], metavar="TEXT",
                help="run only the cases whose name contains TEXT (repeatable; 'end to end' for the epoch) and print their rows; "
                     "the --out file is left as it is")
ap.add_argument("--threads-section", help="the Threads section written by threads.py, put into the file below the table")
args = ap.parse_args()
here = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd, env=None):
    e = dict(os.environ)
    e.update(env or {})
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=e).stdout
    return json.loads(out[out.index("{"):])


def tl(*a):
    return run_json([args.torchlabs, "bench", *a, "--format", "json"])


def py(script, *a, threads=None, env=None):
    e = {"OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)} if threads else {}
    e.update(env or {})
    return run_json(["/usr/bin/python3", os.path.join(here, script), *map(str, a)], e)


# TorchLabs preloads tcmalloc for libtorch (src/TorchLabs/Runtime/NativeAllocator.cs); Python runs as users run it, on glibc's
# allocator. For a like-for-like reading the batch-4 and end-to-end cases also time Python with the same tcmalloc preloaded,
# and TorchLabs on glibc's allocator (TORCHLABS_ALLOCATOR=system).
TCMALLOC = {"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"}
SYSTEM = {"TORCHLABS_ALLOCATOR": "system"}


cases = [
    {"name": "tutorial Net training, batch 4, 1 thread (the default step: modules, autograd, TorchSharp's optim.SGD)", "target": "TorchLabs ≥ 1.0× Python PyTorch (parity: both spend the step in libtorch)", "higher": True, "goal": 1.0,
     "limit": "≈ 20,500 images/s (3.9 MFLOP per image at ≈ 80 GFLOP/s per core)",
     # cifar10's default step (--impl torch) on one core, as the Python peer's one thread; --impl fast is an extra line.
     "ours": lambda: tl("cifar-net-train", "--batch-size", "4", "--steps", "3000", "--threads", "1", "--impl", "torch")["imagesPerSecond"],
     "peer": lambda: py("peer_pytorch.py", "cifar-net-train", 4, 3000, 1)["imagesPerSecond"], "peer_name": "Python PyTorch", "unit": "images/s",
     "extras": [("Python PyTorch with tcmalloc preloaded", lambda: py("peer_pytorch.py", "cifar-net-train", 4, 3000, 1, env=TCMALLOC)["imagesPerSecond"]),
                ("TorchLabs on glibc's allocator", lambda: run_json([args.torchlabs, "bench", "cifar-net-train", "--batch-size", "4", "--steps", "3000", "--threads", "1", "--impl", "torch", "--format", "json"], SYSTEM)["imagesPerSecond"]),
                ("TorchLabs' opt-in hand step (--impl fast; target ≥ 1.8× Python)", lambda: tl("cifar-net-train", "--batch-size", "4", "--steps", "3000", "--threads", "1", "--impl", "fast")["imagesPerSecond"])]},
    {"name": "tutorial Net training, batch 64, 2 threads", "target": "TorchLabs ≥ 1.1× Python PyTorch (images/s)", "higher": True, "goal": 1.1,
     "limit": "≈ 41,000 images/s (two cores)",
     "ours": lambda: tl("cifar-net-train", "--batch-size", "64", "--steps", "800", "--threads", "2")["imagesPerSecond"],
     "peer": lambda: py("peer_pytorch.py", "cifar-net-train", 64, 800, 2)["imagesPerSecond"], "peer_name": "Python PyTorch", "unit": "images/s"},
    {"name": "hand Adam step on the Net's parameters, 1 thread", "target": "hand ≤ 1.2× TorchSharp's built-in step time", "higher": False, "goal": 1.2,
     "ours": lambda: tl("optimizer-step", "--optimizer", "adam", "--impl", "hand", "--steps", "5000", "--threads", "1")["msPerStep"],
     "peer": lambda: tl("optimizer-step", "--optimizer", "adam", "--impl", "torch", "--steps", "5000", "--threads", "1")["msPerStep"],
     "peer_name": "TorchSharp optim.Adam", "unit": "ms/step",
     "extras": [("Python torch.optim.Adam", lambda: py("peer_pytorch.py", "optimizer-step", "adam", 5000, 1)["msPerStep"])]},
    {"name": "hand SGD-momentum step on the Net's parameters, 1 thread", "target": "hand ≤ 1.2× TorchSharp's built-in step time", "higher": False, "goal": 1.2,
     "ours": lambda: tl("optimizer-step", "--optimizer", "sgd", "--impl", "hand", "--steps", "5000", "--threads", "1")["msPerStep"],
     "peer": lambda: tl("optimizer-step", "--optimizer", "sgd", "--impl", "torch", "--steps", "5000", "--threads", "1")["msPerStep"],
     "peer_name": "TorchSharp optim.SGD", "unit": "ms/step",
     "extras": [("Python torch.optim.SGD", lambda: py("peer_pytorch.py", "optimizer-step", "sgd", 5000, 1)["msPerStep"])]},
    {"name": "reference backprop, notes 004 network, 2000 iterations, 2 threads", "target": "reference ≤ 1.5× NumPy's time (aim 1.0×)", "higher": False, "goal": 1.5,
     "ours": lambda: tl("vector-backprop", "--impl", "reference", "--iterations", "2000", "--threads", "2")["seconds"],
     "peer": lambda: py("peer_numpy.py", 2000, threads=2)["seconds"], "peer_name": "NumPy (OpenBLAS, 2 threads)", "unit": "s",
     "extras": [("TorchSharp autograd", lambda: tl("vector-backprop", "--impl", "torch", "--iterations", "2000", "--threads", "2")["seconds"])]},
]

# The tutorial end to end: one epoch of 50,000 generated images in both formats (the same images), TorchLabs' cifar10 against
# the Python tutorial run verbatim (torchvision dataset and transforms, DataLoader with 2 workers); seconds per epoch and peak RSS.
E2E = "the tutorial end to end: one epoch of 50,000 images (batch 4, default threads, default step)"
wanted = lambda name: not args.only or any(t in name for t in args.only)
e2e_dir = tempfile.mkdtemp(prefix="torchlabs-e2e-")
atexit.register(shutil.rmtree, e2e_dir, True)   # 50,000 images in two formats: not left behind
if wanted(E2E):
    subprocess.run(["/usr/bin/python3", os.path.join(here, "make_cifar.py"), e2e_dir, "50000", "10000"], check=True)
e2e_rss = {"ours": [], "peer": []}   # peak RSS of the compared runs; the extra lines ("other") are timed only


def timed_json(cmd, key, env=None):
    e = dict(os.environ)
    e.update(env or {})
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=True, env=e)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
    if key in e2e_rss:
        e2e_rss[key].append(int(rss.group(1)) / 1024 if rss else float("nan"))
    return json.loads(res.stdout[res.stdout.index("{"):])


cases.append({"name": E2E, "target": "TorchLabs' epoch ≤ 0.4× the Python tutorial's (2.5× faster)",
              "higher": False, "goal": 0.4, "limit": "≈ 2.4 s of arithmetic on one core, ≈ 1.2 s on two (50,000 × 3.9 MFLOP at ≈ 80 GFLOP/s a core)",
              "ours": lambda: timed_json([args.torchlabs, "cifar10", "--data", e2e_dir, "--epochs", "1", "--limit-test", "1000", "--out", os.path.join(e2e_dir, "out"), "--format", "json"], "ours")["epochSeconds"][0],
              "peer": lambda: timed_json(["/usr/bin/python3", os.path.join(here, "peer_tutorial.py"), e2e_dir], "peer")["seconds"],
              "peer_name": "the Python tutorial (torchvision, DataLoader 2 workers)", "unit": "s",
              "extras": [("the Python tutorial with tcmalloc preloaded", lambda: timed_json(["/usr/bin/python3", os.path.join(here, "peer_tutorial.py"), e2e_dir], "other", TCMALLOC)["seconds"]),
                         ("TorchLabs on glibc's allocator", lambda: timed_json([args.torchlabs, "cifar10", "--data", e2e_dir, "--epochs", "1", "--limit-test", "1000", "--out", os.path.join(e2e_dir, "out"), "--format", "json"], "other", SYSTEM)["epochSeconds"][0]),
                         ("TorchLabs' opt-in hand step (--impl fast; target ≤ 0.25×, 4× faster)", lambda: timed_json([args.torchlabs, "cifar10", "--data", e2e_dir, "--epochs", "1", "--limit-test", "1000", "--out", os.path.join(e2e_dir, "out"), "--format", "json", "--impl", "fast"], "other")["epochSeconds"][0])]})

def fmt(v, unit):
    return f"{v:,.0f} {unit}" if unit == "images/s" else f"{v:.3f} {unit}" if unit == "ms/step" else f"{v:.1f} {unit}"


rows = []
for c in filter(lambda c: wanted(c["name"]), cases):
    ours, peer, extra = [], [], {name: [] for name, _ in c.get("extras", [])}
    for r in range(args.reps):
        print(f"{c['name']}: repetition {r + 1}/{args.reps}", file=sys.stderr, flush=True)
        # alternate the order so that neither side always runs on a warm machine
        if r % 2 == 0:
            ours.append(c["ours"]()); peer.append(c["peer"]())
        else:
            peer.append(c["peer"]()); ours.append(c["ours"]())
        for name, fn in c.get("extras", []):
            extra[name].append(fn())
    mo, mp = statistics.median(ours), statistics.median(peer)
    ratio = mo / mp if c["higher"] else mo / mp
    met = ratio >= c["goal"] if c["higher"] else ratio <= c["goal"]
    rows.append((c, mo, mp, ratio, met, {name: statistics.median(v) for name, v in extra.items()}, ours, peer))

if args.only:   # a partial run: its rows on stdout, the file untouched
    for c, mo, mp, ratio, met, ex, ours, peer in rows:
        print(f"{c['name']}: TorchLabs {fmt(mo, c['unit'])}, {c['peer_name']} {fmt(mp, c['unit'])}: {ratio:.2f}× "
              f"({'met' if met else 'not met'}: {c['target']}); TorchLabs {', '.join(fmt(v, c['unit']) for v in ours)}, "
              f"peer {', '.join(fmt(v, c['unit']) for v in peer)}; " + "; ".join(f"{n} {fmt(v, c['unit'])}" for n, v in ex.items()))
    sys.exit(0)

# torchlabs all, without CIFAR-10: wall time and peak memory.
with tempfile.TemporaryDirectory() as d:
    t0 = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-v", args.torchlabs, "all", "--out", os.path.join(d, "report"), "--threads", "2",
                          "--data", os.path.join(d, "nodata")], capture_output=True, text=True)
    all_seconds = time.perf_counter() - t0
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
    all_rss_mib = int(rss.group(1)) / 1024 if rss else float("nan")

info = run_json([args.torchlabs, "info", "--format", "json"])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
torch_py = subprocess.run(["/usr/bin/python3", "-c", "import torch, numpy; print(torch.__version__, numpy.__version__)"], capture_output=True, text=True).stdout.split()


lines = [
    "# Performance",
    "",
    f"Regenerated by `scripts/bench/run.sh {args.reps}` on {time.strftime('%Y-%m-%d')}: each case ran {args.reps} times for TorchLabs and for its peer,",
    "alternating which went first; the table gives medians. Ratios are TorchLabs ÷ peer (for time per step or seconds, lower is better;",
    "for images per second, higher is better).",
    "",
    f"Machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}. TorchLabs: TorchSharp {info['torchSharp']} (libtorch {info['libtorch']}, {info['backend']}),"
    f" .NET {platform.python_version() and subprocess.run(['dotnet', '--version'], capture_output=True, text=True).stdout.strip()} SDK."
    f" Peers: Python PyTorch {torch_py[0] if torch_py else '?'} and NumPy {torch_py[1] if len(torch_py) > 1 else '?'} from Debian.",
    "",
]
# The three ratios #44 asks for, against Python in this one run: the default step, the opt-in step, the end to end.
step = next(r for r in rows if r[0]["name"].startswith("tutorial Net training, batch 4"))
epoch = next(r for r in rows if r[0]["name"] == E2E)
opt_in = lambda r: next(v for k, v in r[5].items() if k.startswith("TorchLabs' opt-in"))
faster = lambda ours_s, peer_s: f"{peer_s / ours_s:.1f}× faster ({ours_s / peer_s:.2f}×)"
lines += [
    "**The tutorial's step and epoch against Python PyTorch, this run:**",
    "",
    "| against Python PyTorch | TorchLabs | Python | ratio | target | met |",
    "|---|---|---|---|---|---|",
    f"| default step (`--impl torch`: modules, autograd, `optim.SGD`), batch 4, 1 thread | {fmt(step[1], 'images/s')} | {fmt(step[2], 'images/s')} | {step[1] / step[2]:.2f}× | parity (≥ 1.0×) | {'yes' if step[1] >= step[2] else '**no**'} |",
    f"| opt-in step (`--impl fast`: Fast/'s fused SGD and hand step) | {fmt(opt_in(step), 'images/s')} | {fmt(step[2], 'images/s')} | {opt_in(step) / step[2]:.2f}× | ≥ 1.8× | {'yes' if opt_in(step) >= 1.8 * step[2] else '**no**'} |",
    f"| one epoch end to end, default step | {fmt(epoch[1], 's')} | {fmt(epoch[2], 's')} | {faster(epoch[1], epoch[2])} | ≥ 2.5× faster | {'yes' if epoch[2] >= 2.5 * epoch[1] else '**no**'} |",
    f"| one epoch end to end, `--impl fast` | {fmt(opt_in(epoch), 's')} | {fmt(epoch[2], 's')} | {faster(opt_in(epoch), epoch[2])} | ≥ 4× faster | {'yes' if epoch[2] >= 4 * opt_in(epoch) else '**no**'} |",
    "",
    "| case | TorchLabs | peer | peer median | ratio | target | physical limit | met |",
    "|---|---|---|---|---|---|---|---|",
]
for c, mo, mp, ratio, met, ex, ours, peer in rows:
    lines.append(f"| {c['name']} | {fmt(mo, c['unit'])} | {c['peer_name']} | {fmt(mp, c['unit'])} | {ratio:.2f}× | {c['target']} | {c.get('limit', '–')} | {'yes' if met else '**no**'} |")
rss_ours, rss_peer = statistics.median(e2e_rss["ours"]), statistics.median(e2e_rss["peer"])
lines.append(f"| peak RSS of that epoch (whole process) | {rss_ours:.0f} MiB | the Python tutorial | {rss_peer:.0f} MiB | {rss_ours / rss_peer:.2f}× | ≤ 1.0× | – | {'yes' if rss_ours <= rss_peer else '**no**'} |")
lines.append(f"| `torchlabs all` on 2 cores without CIFAR-10 | {all_seconds:.0f} s, peak RSS {all_rss_mib:.0f} MiB | – | – | – | under 5 minutes, memory flat across epochs | – | {'yes' if all_seconds < 300 else '**no**'} |")
lines += ["", "Other measurements of the same runs:", ""]
for c, mo, mp, ratio, met, ex, ours, peer in rows:
    for name, v in ex.items():
        lines.append(f"- {c['name']}: {name} {fmt(v, c['unit'])} (median; TorchLabs ÷ this: {mo / v:.2f}×).")
    lines.append(f"- {c['name']}: all repetitions, TorchLabs {', '.join(fmt(v, c['unit']) for v in ours)}; peer {', '.join(fmt(v, c['unit']) for v in peer)}.")
# Below the table: the Threads section (new from threads.py when given, else the file's own), then the notes, kept once,
# in this file only: everything after NOTES in the existing docs/performance.md.
NOTES = "<!-- Notes: everything below this line is kept as it is when scripts/bench/driver.py rewrites the table above. -->"
old = open(args.out).read() if os.path.exists(args.out) else ""
kept = old[old.index(NOTES) + len(NOTES):].strip() if NOTES in old else ""
threads = open(args.threads_section).read().strip() if args.threads_section and os.path.exists(args.threads_section) else ""
if threads and kept.startswith("## Threads"):
    rest = kept.find("\n## ", 1)
    kept = kept[rest + 1:] if rest >= 0 else ""
lines += ["", NOTES, ""] + ([threads, ""] if threads else []) + [kept]
tmp = args.out + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(tmp, args.out)
print(f"wrote {args.out}", file=sys.stderr)
