#!/usr/bin/python3
"""Golden gradients of notes 003's dropout/concat network from real PyTorch autograd (Debian's python3-torch).

Writes tests/TorchLabs.Tests/Golden/dropout_concat.json: cases (x, y, W1, b1, W2, b2, m; W1 is d x s, W2 is (s+d) x k as
the seed writes them) with PyTorch's loss and the eleven derivatives of eq. 9. Each case also stands alone as input for
`torchlabs gradcheck dropout-concat --case FILE`. Usage: /usr/bin/python3 scripts/golden/dropout_concat.py
"""
import json
import os
import random

import torch

torch.set_default_dtype(torch.float64)
rng = random.Random(3003)
gen = torch.Generator().manual_seed(3003)


def case(d, s, k, p):
    x = torch.randn(d, generator=gen)
    W1 = torch.randn(d, s, generator=gen)
    b1 = torch.randn(s, generator=gen)
    W2 = torch.randn(s + d, k, generator=gen)
    b2 = torch.randn(k, generator=gen)
    y = torch.zeros(k)
    y[rng.randrange(k)] = 1.0
    m = (torch.rand(s + d, generator=gen) >= p).double()
    leaves = [t.clone().requires_grad_(True) for t in (x, W1, b1, W2, b2)]
    xl, W1l, b1l, W2l, b2l = leaves
    h1 = W1l.t() @ xl + b1l
    a1 = torch.relu(h1)
    h2 = torch.cat([a1, xl])
    a2 = h2 * m
    h3 = W2l.t() @ a2 + b2l
    yhat = torch.softmax(h3, 0)
    for t in (h1, a1, h2, a2, h3, yhat):
        t.retain_grad()
    L = -(y * yhat.log()).sum()
    L.backward()
    grads = {"dL/dyhat": yhat.grad, "dL/dh3": h3.grad, "dL/dW2": W2l.grad, "dL/db2": b2l.grad, "dL/da2": a2.grad,
             "dL/dh2": h2.grad, "dL/da1": a1.grad, "dL/dh1": h1.grad, "dL/dW1": W1l.grad, "dL/db1": b1l.grad, "dL/dx": xl.grad}
    return {"case": {"x": x.tolist(), "y": y.tolist(), "W1": W1.tolist(), "b1": b1.tolist(), "W2": W2.tolist(),
                     "b2": b2.tolist(), "m": m.tolist()},
            "loss": L.item(), "grads": {n: g.tolist() for n, g in grads.items()}}


shapes = [(4, 5, 3, 0.5), (1, 2, 2, 0.3), (7, 3, 4, 0.5), (2, 9, 2, 0.8), (5, 5, 5, 0.0), (3, 1, 6, 0.5)]
cases = [case(*sh) for sh in shapes]
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "dropout_concat.json")
with open(out, "w") as f:
    json.dump({"generator": "scripts/golden/dropout_concat.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases to {os.path.normpath(out)}")
