#!/usr/bin/env bash
# Fuzzes every parser harness of tests/TorchLabs.Fuzz with AFL++ through SharpFuzz, SECONDS each (default 600), one after the
# other; findings (inputs that crash, throw anything but the bad-input error, or hang past 1 s) are copied to
# tests/TorchLabs.Fuzz/findings/NAME/ and summarised. Usage: scripts/fuzz/run.sh [SECONDS] [NAME...]
# What it needs and installs when missing: Debian's afl++, and the SharpFuzz.CommandLine tool (.config/dotnet-tools.json).
# Bounds per input, as the invariant states them: 1 s (afl-fuzz -t 1000) and a managed heap of 512 MiB (DOTNET_GCHeapHardLimit).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
names=("$@")
if ! command -v afl-fuzz >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then echo "fuzz: install afl++ first (apt-get install afl++)" >&2; exit 2; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
dotnet tool restore >/dev/null
out=${FUZZ_OUT:-$(mktemp -d /tmp/torchlabs-fuzz.XXXXXX)}
mkdir -p "$out"
bin=${FUZZ_BIN:-tests/TorchLabs.Fuzz/bin/Fuzz}
dotnet build tests/TorchLabs.Fuzz -c Release -o "$bin" -nologo -v q >/dev/null
rm -rf tests/TorchLabs.Fuzz/bin/Replay && cp -r "$bin" tests/TorchLabs.Fuzz/bin/Replay   # before instrumentation
# Instrument the libraries that hold the parsers and the checker (not TorchSharp, not the harness): AFL then sees their branches.
dotnet sharpfuzz "$bin/TorchLabs.Core.dll" >/dev/null
dotnet sharpfuzz "$bin/TorchLabs.GradCheck.dll" >/dev/null   # the gradcheck harness: GradCheck's own branches
if (( ${#names[@]} == 0 )); then names=(model checkpoint checkpoint-link cifar idx image sweep result set grid gradcheck); fi
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1
export DOTNET_GCHeapHardLimit=0x20000000 DOTNET_TieredPGO=0
status=0
# The corpora (starting inputs and fixed findings) replayed first under the same heap bound, uninstrumented.
for name in "${names[@]}"; do
  dotnet tests/TorchLabs.Fuzz/bin/Replay/torchlabs-fuzz.dll replay "$name" tests/TorchLabs.Fuzz/corpus/"$name"/* >"$out/$name.replay" 2>&1 \
    || { echo "fuzz: $name: a corpus input fails under the bounds (see $out/$name.replay)" >&2; grep FINDING "$out/$name.replay" >&2; status=1; }
done
for name in "${names[@]}"; do
  echo "fuzz: $name for ${seconds} s" >&2
  afl-fuzz -i "tests/TorchLabs.Fuzz/corpus/$name" -o "$out/$name" -t 1000 -m none -V "$seconds" \
    -- dotnet "$bin/torchlabs-fuzz.dll" fuzz "$name" >"$out/$name.log" 2>&1 || { echo "fuzz: afl-fuzz failed for $name (see $out/$name.log)" >&2; tail -5 "$out/$name.log" >&2; status=1; continue; }
  stats="$out/$name/default/fuzzer_stats"
  execs=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$stats")
  paths=$(awk -F: '/^corpus_count/ {gsub(/ /, "", $2); print $2}' "$stats")
  crashes=$(find "$out/$name/default/crashes" -type f -name 'id:*' | wc -l)
  hangs=$(find "$out/$name/default/hangs" -type f -name 'id:*' | wc -l)
  echo "fuzz: $name: $execs executions, $paths paths, $crashes crashes, $hangs hangs" >&2
  if (( crashes + hangs > 0 )); then
    mkdir -p "tests/TorchLabs.Fuzz/findings/$name"
    find "$out/$name/default/crashes" "$out/$name/default/hangs" -type f -name 'id:*' -exec sh -c \
      'for f; do cp "$f" "tests/TorchLabs.Fuzz/findings/'"$name"'/$(sha1sum "$f" | cut -c1-16)"; done' sh {} +
    status=1
  fi
done
exit $status
