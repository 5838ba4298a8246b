#!/usr/bin/env bash
# Regenerates docs/performance.md on this machine: every case run for TorchLabs and for its peer in the same run,
# alternating, several repetitions (medians). Usage: scripts/bench/run.sh [REPETITIONS]   (default 3; about 15 minutes: the thread spreads first, see threads.py)
# Peers: Python PyTorch and NumPy from Debian (python3-torch, python3-numpy with libopenblas0-pthread, installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
need=()
for p in python3-torch python3-torchvision python3-numpy libopenblas0-pthread libtcmalloc-minimal4 time; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if (( ${#need[@]} )); then
  if [[ $(id -u) -ne 0 ]]; then echo "bench: install ${need[*]} first (apt-get install ${need[*]})" >&2; exit 2; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
dotnet build src/TorchLabs.Cli -c Release -nologo -v q >/dev/null
/usr/bin/python3 scripts/bench/threads.py --torchlabs src/TorchLabs.Cli/bin/Release/net10.0/torchlabs --out "${TMPDIR:-/tmp}/torchlabs-threads.md"
exec /usr/bin/python3 scripts/bench/driver.py --reps "$reps" --torchlabs src/TorchLabs.Cli/bin/Release/net10.0/torchlabs --out docs/performance.md \
  --threads-section "${TMPDIR:-/tmp}/torchlabs-threads.md"
