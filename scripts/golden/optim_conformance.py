"""Goldens for #28: trajectories of PyTorch's optimizers (Debian's python3-torch 1.13) in float64, over a grid that covers
every option TorchSharp 0.107's optimizers have, on two problems:

  f   notes 001's f(x) = x0^2/20 + x1^2 from (3, -2), 25 steps;
  mlp a fixed MLP 3 -> 4 (tanh) -> 2 with four parameter tensors, mean squared error on five fixed samples, 15 steps.

Every point after every step is written, the start first: tests/TorchLabs.Tests/Golden/optim_conformance.json.

    /usr/bin/python3 scripts/golden/optim_conformance.py
"""
import json, math, os
import torch

torch.set_default_dtype(torch.float64)

GRID = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.5),
            dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.1, weight_decay=0.1), dict(lr=0.05, momentum=0.5, maximize=True)],
    "Adam": [dict(lr=0.1), dict(lr=0.1, betas=(0.8, 0.95)), dict(lr=0.1, amsgrad=True), dict(lr=0.1, weight_decay=0.1),
             dict(lr=0.1, maximize=True), dict(lr=0.1, eps=1e-3), dict(lr=0.1, weight_decay=0.1, amsgrad=True)],
    "AdamW": [dict(lr=0.1), dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, amsgrad=True, betas=(0.8, 0.95)),
              dict(lr=0.1, maximize=True)],
    "Adamax": [dict(lr=0.1), dict(lr=0.1, betas=(0.8, 0.95)), dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, eps=1e-3)],
    "NAdam": [dict(lr=0.1), dict(lr=0.1, momentum_decay=0.01), dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, betas=(0.8, 0.95))],
    "RAdam": [dict(lr=0.1), dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, betas=(0.8, 0.95)), dict(lr=0.1, eps=1e-3)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, alpha=0.9), dict(lr=0.01, centered=True), dict(lr=0.01, momentum=0.5),
                dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, maximize=True), dict(lr=0.01, centered=True, momentum=0.5, eps=1e-3)],
    "Rprop": [dict(lr=0.1), dict(lr=0.1, etas=(0.3, 1.5)), dict(lr=0.1, step_sizes=(1e-3, 0.2)), dict(lr=0.1, maximize=True)],
    "Adagrad": [dict(lr=0.5), dict(lr=0.5, lr_decay=0.1), dict(lr=0.5, initial_accumulator_value=0.1), dict(lr=0.5, weight_decay=0.1),
                dict(lr=0.5, eps=1e-3)],
    "Adadelta": [dict(lr=1.0), dict(lr=1.0, rho=0.8), dict(lr=1.0, eps=1e-3), dict(lr=1.0, weight_decay=0.1),
                 dict(lr=1.0, maximize=True)],
    "ASGD": [dict(lr=0.1), dict(lr=0.1, lambd=1e-2), dict(lr=0.1, alpha=0.5), dict(lr=0.1, t0=5), dict(lr=0.1, weight_decay=0.1),
             dict(lr=0.1, maximize=True), dict(lr=0.1, lambd=1e-2, alpha=0.5, t0=5)],
}


def f_problem(start=(3.0, -2.0), steps=25):
    x = torch.tensor(start, requires_grad=True)
    return [x], lambda: x[0] ** 2 / 20 + x[1] ** 2, steps


# #36: runs that overflow or divide 0 by 0 on both sides alike: SGD with lr=1e308 on f, Adam with eps=0 on f from the origin
# (problem "origin": f from (0, 0), 5 steps). Non-finite numbers are written as the strings "NaN", "Infinity", "-Infinity".
EXTRA = [("SGD", dict(lr=1e308), "f"), ("Adam", dict(lr=0.1, eps=0.0), "origin")]


def mlp_problem():
    w1 = torch.tensor([[0.1 * math.sin(3 * i + j + 1) for j in range(3)] for i in range(4)], requires_grad=True)
    b1 = torch.tensor([0.05 * math.cos(i + 1) for i in range(4)], requires_grad=True)
    w2 = torch.tensor([[0.2 * math.cos(4 * i + j + 2) for j in range(4)] for i in range(2)], requires_grad=True)
    b2 = torch.tensor([0.01 * (i + 1) for i in range(2)], requires_grad=True)
    X = torch.tensor([[math.cos(0.7 * n + 0.3 * k) for k in range(3)] for n in range(5)])
    Y = torch.tensor([[math.sin(0.5 * n + k) for k in range(2)] for n in range(5)])
    return [w1, b1, w2, b2], lambda: ((torch.tanh(X @ w1.T + b1) @ w2.T + b2 - Y) ** 2).mean(), 15


def run(name, settings, problem):
    params, loss, steps = problem()
    opt = getattr(torch.optim, name)(params, **settings)
    flat = lambda: torch.cat([p.detach().flatten() for p in params]).tolist()
    points = [flat()]
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()
        points.append(flat())
    return points


cases = []
for name, grid in GRID.items():
    for settings in grid:
        for problem, make in (("f", f_problem), ("mlp", mlp_problem)):
            cases.append({"optimizer": name, "problem": problem,
                          "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
                          "trajectory": run(name, settings, make)})
for name, settings, problem in EXTRA:
    make = f_problem if problem == "f" else (lambda: f_problem((0.0, 0.0), 5))
    cases.append({"optimizer": name, "problem": problem, "settings": settings, "trajectory": run(name, settings, make)})


def finite(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return [finite(x) for x in v] if isinstance(v, list) else v


for c in cases:
    c["trajectory"] = finite(c["trajectory"])
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "optim_conformance.json")
with open(out, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(len(cases), "cases,", os.path.getsize(out), "bytes")
