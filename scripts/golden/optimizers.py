#!/usr/bin/python3
"""Golden optimizer trajectories from real PyTorch (Debian's python3-torch), for the tests.

Runs torch.optim on f(x) = x0^2/20 + x1^2 (notes 000/001 Q3) in float64, with the analytic gradient
(x0/10, 2 x1) written into x.grad before each step, exactly as `torchlabs optimizers` does, and writes
tests/TorchLabs.Tests/Golden/optimizers.json. Usage: /usr/bin/python3 scripts/golden/optimizers.py
"""
import json
import os
import random

import torch

torch.set_default_dtype(torch.float64)
rng = random.Random(20261123)


def make(name, params):
    if name == "gd":
        return lambda p: torch.optim.SGD(p, lr=params["lr"], weight_decay=params["weightDecay"])
    if name == "momentum":
        return lambda p: torch.optim.SGD(p, lr=params["lr"], momentum=params["momentum"],
                                         dampening=params["dampening"], weight_decay=params["weightDecay"])
    if name == "nesterov":
        return lambda p: torch.optim.SGD(p, lr=params["lr"], momentum=params["momentum"], nesterov=True,
                                         weight_decay=params["weightDecay"])
    if name == "adagrad":
        return lambda p: torch.optim.Adagrad(p, lr=params["lr"], eps=params["eps"], weight_decay=params["weightDecay"])
    if name == "rmsprop":
        return lambda p: torch.optim.RMSprop(p, lr=params["lr"], alpha=params["alpha"], eps=params["eps"],
                                             weight_decay=params["weightDecay"])
    if name == "adam":
        return lambda p: torch.optim.Adam(p, lr=params["lr"], betas=(params["beta1"], params["beta2"]),
                                          eps=params["eps"], weight_decay=params["weightDecay"])
    raise ValueError(name)


def case(name):
    lr = {"gd": 10 ** rng.uniform(-3, -0.5), "momentum": 10 ** rng.uniform(-3, -1), "nesterov": 10 ** rng.uniform(-3, -1),
          "adagrad": 10 ** rng.uniform(-2, 0.5), "rmsprop": 10 ** rng.uniform(-3, -0.5), "adam": 10 ** rng.uniform(-3, 0)}[name]
    params = {
        "lr": lr,
        "momentum": rng.uniform(0.05, 0.95) if name in ("momentum", "nesterov") else 0.0,
        "dampening": rng.choice([0.0, 0.0, 0.3]) if name == "momentum" else 0.0,
        "alpha": rng.uniform(0.5, 0.999),
        "beta1": rng.uniform(0.0, 0.95),
        "beta2": rng.uniform(0.9, 0.9999),
        "eps": {"adagrad": 1e-10}.get(name, 1e-8) * rng.choice([1.0, 1.0, 100.0]),
        "weightDecay": rng.choice([0.0, 0.0, rng.uniform(0.0, 0.1)]),
    }
    start = [rng.uniform(-100, 100), rng.uniform(-100, 100)]
    steps = 120
    x = torch.tensor(start, requires_grad=True)
    opt = make(name, params)([x])
    path = [start]
    for _ in range(steps):
        with torch.no_grad():
            x.grad = torch.stack([x[0] / 10, 2 * x[1]]).detach()
        opt.step()
        path.append([float(v) for v in x.detach()])
    return {"optimizer": name, **params, "start": start, "steps": steps, "trajectory": path}


cases = [case(name) for name in ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"] for _ in range(4)]
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "optimizers.json")
with open(out, "w") as f:
    json.dump({"generator": "scripts/golden/optimizers.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases to {os.path.normpath(out)}")
