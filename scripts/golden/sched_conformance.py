"""Goldens for #28's schedulers: the learning rate (and the momentum where a scheduler cycles it) of PyTorch's
torch.optim.lr_scheduler (Debian's python3-torch 1.13) attached to SGD(lr=0.1, momentum=M), before the first step and after
every scheduler.step(), over at least three periods: tests/TorchLabs.Tests/Golden/sched_conformance.json.

    /usr/bin/python3 scripts/golden/sched_conformance.py
"""
import json, math, os
import torch
from torch.optim import lr_scheduler as S

LAMBDAS = {"pow095": lambda e: 0.95 ** e, "inv": lambda e: 1.0 / (1 + e), "const09": lambda e: 0.9}
METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.85, 0.86, 0.86, 0.87, 0.88, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.6, 0.61, 0.62, 0.63]

# (name, settings, steps, momentum); a settings value "λ:KEY" names a lambda above; SequentialLR and ChainedScheduler take
# their parts as [name, settings] pairs.
GRID = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}, 12, 0), ("StepLR", {"step_size": 2}, 8, 0),
    ("MultiStepLR", {"milestones": [2, 5, 9], "gamma": 0.5}, 12, 0),
    ("MultiStepLR", {"milestones": [3, 3, 7], "gamma": 0.5}, 12, 0),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}, 12, 0), ("ConstantLR", {}, 15, 0),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 5}, 15, 0),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 4}, 12, 0), ("LinearLR", {}, 15, 0),
    ("ExponentialLR", {"gamma": 0.9}, 12, 0),
    ("PolynomialLR", {"total_iters": 6, "power": 1.0}, 18, 0), ("PolynomialLR", {"total_iters": 6, "power": 2.0}, 18, 0),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}, 20, 0), ("CosineAnnealingLR", {"T_max": 4}, 16, 0),
    ("LambdaLR", {"lr_lambda": "λ:pow095"}, 12, 0), ("LambdaLR", {"lr_lambda": "λ:inv"}, 12, 0),
    ("MultiplicativeLR", {"lr_lambda": "λ:const09"}, 12, 0),
    ("SequentialLR", {"schedulers": [["ConstantLR", {"factor": 0.5, "total_iters": 2}], ["ExponentialLR", {"gamma": 0.9}]],
                      "milestones": [3]}, 12, 0),
    ("SequentialLR", {"schedulers": [["LinearLR", {"start_factor": 0.25, "total_iters": 3}], ["CosineAnnealingLR", {"T_max": 6}]],
                      "milestones": [4]}, 18, 0),
    ("ChainedScheduler", {"schedulers": [["ConstantLR", {"factor": 0.5, "total_iters": 3}], ["ExponentialLR", {"gamma": 0.9}]]}, 12, 0),
    ("ReduceLROnPlateau", {"patience": 1, "factor": 0.5}, 20, 0),
    ("ReduceLROnPlateau", {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 0, "factor": 0.5}, 20, 0),
    ("ReduceLROnPlateau", {"patience": 1, "cooldown": 2, "min_lr": 0.02, "factor": 0.5}, 20, 0),
    ("ReduceLROnPlateau", {"patience": 0, "factor": 0.5, "threshold": 0.1, "eps": 0.01}, 20, 0),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3}, 18, 0.9),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 5, "mode": "triangular2"}, 24, 0.9),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2, "mode": "exp_range", "gamma": 0.9}, 16, 0.9),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "cycle_momentum": False}, 18, 0.9),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "base_momentum": 0.7, "max_momentum": 0.95}, 18, 0.9),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 20}, 19, 0.9),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 20, "anneal_strategy": "linear"}, 19, 0.9),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 20, "three_phase": True, "pct_start": 0.25}, 19, 0.9),
    ("OneCycleLR", {"max_lr": 0.1, "epochs": 4, "steps_per_epoch": 5, "div_factor": 10.0, "final_div_factor": 100.0}, 19, 0.9),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 20, "cycle_momentum": False}, 19, 0.9),
    # #36: momentum 0 is overwritten by the cycle; unsorted milestones go through bisect_right as they are; an overflow alike.
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 20}, 19, 0),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3}, 18, 0),
    ("SequentialLR", {"schedulers": [["ConstantLR", {"factor": 0.1, "total_iters": 2}], ["ExponentialLR", {"gamma": 0.9}],
                                     ["StepLR", {"step_size": 2}]], "milestones": [5, 2]}, 12, 0),
    ("ExponentialLR", {"gamma": 1e300}, 4, 0),
]
# Settings PyTorch accepts at construction and then fails on: the error it raises.
REFUSED = [("ConstantLR", {"factor": 0.0, "total_iters": 2}, 4)]


def make(name, settings, opt):
    kw = {}
    for k, v in settings.items():
        if isinstance(v, str) and v.startswith("λ:"):
            v = LAMBDAS[v[2:]]
        if k == "schedulers":
            v = [make(n, s, opt) for n, s in v]
        kw[k] = v
    return S.ChainedScheduler(kw["schedulers"]) if name == "ChainedScheduler" else getattr(S, name)(opt, **kw)


cases = []
for name, settings, steps, momentum in GRID:
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=momentum)
    sched = make(name, settings, opt)
    lr, mom = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for t in range(steps):
        opt.step()
        if name == "ReduceLROnPlateau":
            sched.step(METRICS[t])
        else:
            sched.step()
        lr.append(opt.param_groups[0]["lr"])
        mom.append(opt.param_groups[0]["momentum"])
    cases.append({"scheduler": name, "settings": settings, "steps": steps, "momentum": momentum, "lr": lr, "momentums": mom})
refused = []
for name, settings, steps in REFUSED:
    opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    sched = make(name, settings, opt)
    try:
        for t in range(steps):
            opt.step()
            sched.step()
        raise SystemExit(f"{name} {settings}: expected an error")
    except ZeroDivisionError as e:
        refused.append({"scheduler": name, "settings": settings, "error": f"{type(e).__name__}: {e}", "step": t + 1})


def finite(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return [finite(x) for x in v] if isinstance(v, list) else v


for c in cases:
    c["lr"], c["momentums"] = finite(c["lr"]), finite(c["momentums"])
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "sched_conformance.json")
with open(out, "w") as f:
    json.dump({"torch": torch.__version__, "metrics": METRICS, "cases": cases, "refused": refused}, f, indent=1, ensure_ascii=False)
print(len(cases), "cases,", len(refused), "refused")
