#!/usr/bin/python3
"""Golden numbers of NumPy's legacy RandomState (np.random.seed, rand, randn), for Reference/NumpyRandom's tests.

Writes tests/TorchLabs.Tests/Golden/numpy_random.json with exact doubles (JSON keeps Python's shortest round-trip repr).
Usage: /usr/bin/python3 scripts/golden/numpy_random.py (Debian's python3-numpy).
"""
import json
import os

import numpy as np

out = {"generator": "scripts/golden/numpy_random.py", "numpy": np.__version__, "seeds": [], "sequences": []}
for seed in [0, 1, 10, 12345, 2**32 - 1]:
    np.random.seed(seed)
    rand = np.random.rand(12).tolist()
    np.random.seed(seed)
    randn = np.random.randn(12).tolist()
    np.random.seed(seed)
    raw = [int(v) for v in np.random.randint(0, 2**32, size=4, dtype=np.uint64)]
    out["seeds"].append({"seed": seed, "rand": rand, "randn": randn})

# Interleaved calls, odd randn counts (a cached Gaussian left over), and re-seeding (which drops the cache).
np.random.seed(3)
seq = []
for op, n in [("randn", 3), ("rand", 2), ("randn", 1), ("randn", 2), ("rand", 1), ("randn", 5)]:
    seq.append({"op": op, "n": n, "values": (np.random.randn(n) if op == "randn" else np.random.rand(n)).tolist()})
out["sequences"].append({"seed": 3, "calls": seq})
np.random.seed(7)
np.random.randn(1)              # leaves a cached Gaussian
np.random.seed(7)               # seeding drops it: the next randn starts afresh
out["sequences"].append({"seed": 7, "calls": [{"op": "randn", "n": 4, "values": np.random.randn(4).tolist()}]})
# C (row-major) order of a 2-D fill: rand(3, 4) equals rand(12) reshaped.
np.random.seed(11)
out["matrix"] = {"seed": 11, "shape": [3, 4], "values": np.random.rand(3, 4).ravel().tolist()}
# Seed 004's first draws: X = rand(12288, 200) after seed(1): its first and last values; seed(10) randn(20, 12288) first values.
np.random.seed(1)
X = np.random.rand(12288, 200)
Y = np.random.rand(1, 200)
np.random.seed(10)
W1 = np.random.randn(20, 12288)
out["seed004"] = {"X_first": X.ravel()[:5].tolist(), "X_last": X.ravel()[-5:].tolist(), "Y_first": Y.ravel()[:5].tolist(),
                  "W1_first": W1.ravel()[:5].tolist(), "W1_last": W1.ravel()[-5:].tolist()}
path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "numpy_random.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
