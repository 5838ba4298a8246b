#!/usr/bin/python3
"""Generated gradcheck cases, answered by PyTorch 1.13's own gradcheck, for differential testing of TorchLabs.GradCheck.

Nobody writes these cases by hand: a seeded generator composes small programs from a catalogue of operations (unary,
binary, reductions, indexing, views, complex ops, integer inputs, several outputs, hand-written autograd Functions with
deliberate defects), draws inputs (shapes, dtypes, strides, inputs without grad) and options (fast mode, eps, atol/rtol,
nondet_tol, check_undefined_grad, check_grad_dtypes, raise_exception), and records what PyTorch's gradcheck says:
- "verdict": "pass", "fail" (a GradcheckError, or False with raise_exception=False) or "error" (any other exception);
- "message": the first line of the GradcheckError (empty otherwise), or "Type: first line" of another exception.
tests/TorchLabs.Tests/Gradients/Generated/GeneratedCase.cs runs the same program through TorchSharp and GradCheck.

Usage:
  /usr/bin/python3 scripts/golden/gradcheck_generated.py                     # the checked-in corpus (seed 43, 520 cases)
  /usr/bin/python3 scripts/golden/gradcheck_generated.py --seed S --count N --out FILE   # a fresh batch
"""
import argparse
import json
import os
import random
import sys
import warnings

import torch
from torch.autograd import Function
from torch.autograd.gradcheck import GradcheckError, gradcheck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradcheck_suite import unary  # noqa: E402 - the suite's Function factory, beside this script

CORPUS = "tests/TorchLabs.Tests/Golden/gradcheck_generated.json"

# ----- hand-written Functions (GeneratedFunctions.cs has the same, by name) -----


def unary_function(name, forward, backward, materialize=True):
    """The suite's unary Function factory (scripts/golden/gradcheck_suite.py), with materialize_grads off when asked."""
    fn = unary(name, forward, backward)
    if materialize:
        return fn
    base_forward = fn.forward

    def forward_unmaterialized(ctx, x):
        ctx.set_materialize_grads(False)
        return base_forward(ctx, x)
    fn.forward = staticmethod(forward_unmaterialized)
    return fn


def nan_where_negative(x, g):
    return torch.where(x < 0, torch.full_like(x, float("nan")), g * torch.cos(x))


def fails_on_undefined(x, g):
    # A C# backward must not throw (the exception would cross libtorch's frames and end the process), so the C# twin answers
    # an undefined grad_output with a gradient of the wrong shape; this one does the same, so that both engines judge the same
    # answer (an error where the shapes cannot be summed to the input's, a sum where they can).
    if g is None:
        return torch.ones(x.numel() + 1, dtype=x.dtype)
    return g * torch.cos(x)


class SinCosNonDifferentiableCos(Function):
    """(sin x, cos x) with cos marked non-differentiable: an output without a graph from a custom Function."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        c = torch.cos(x)
        ctx.mark_non_differentiable(c)
        return torch.sin(x), c

    @staticmethod
    def backward(ctx, g, _):
        (x,) = ctx.saved_tensors
        return g * torch.cos(x)


FUNCTIONS = {
    "fn_sin": unary_function("fn_sin", torch.sin, lambda x, g: g * torch.cos(x)),
    "fn_scaled": unary_function("fn_scaled", torch.sin, lambda x, g: 1.5 * g * torch.cos(x)),
    "fn_ignores_grad_output": unary_function("fn_ignores_grad_output", torch.sin, lambda x, g: torch.cos(x)),
    "fn_nan_where_negative": unary_function("fn_nan_where_negative", torch.sin, nan_where_negative),
    "fn_wrong_shape": unary_function("fn_wrong_shape", torch.sin, lambda x, g: (g * torch.cos(x)).sum().reshape(1, 1)),
    "fn_fails_on_undefined": unary_function("fn_fails_on_undefined", torch.sin, fails_on_undefined, materialize=False),
    "fn_csquare": unary_function("fn_csquare", lambda z: z * z, lambda z, g: g * (2 * z).conj()),
    "fn_csquare_missing_conj": unary_function("fn_csquare_missing_conj", lambda z, : z * z, lambda z, g: g * 2 * z),
}

# ----- the catalogue: name -> (arity, accepts(kinds, shapes, extra), apply, result kind) -----
# Kinds: "r" (real floating point), "c" (complex), "i" (int64). Shapes are tuples.

ELEMENTWISE_RC = ["sin", "cos", "exp", "tanh", "neg", "square"]
ELEMENTWISE_R = ["sigmoid", "relu", "abs", "atan"]


def apply(step, regs):
    op, a = step["op"], [regs[i] for i in step["args"]]
    x = a[0]
    simple = {
        "sin": torch.sin, "cos": torch.cos, "exp": torch.exp, "tanh": torch.tanh, "neg": torch.neg,
        "square": lambda t: t * t, "sigmoid": torch.sigmoid, "relu": torch.relu, "abs": torch.abs, "atan": torch.atan,
        "conj": lambda t: t.conj(), "real": lambda t: t.real, "imag": lambda t: t.imag, "angle": torch.angle,
        "sum": torch.sum, "mean": torch.mean, "prod": torch.prod, "norm": lambda t: torch.linalg.vector_norm(t),
        "reshape_flat": lambda t: t.reshape(-1), "unsqueeze0": lambda t: t.unsqueeze(0), "flip0": lambda t: t.flip(0),
        "t": lambda t: t.t(), "detach": lambda t: t.detach(), "argmax": torch.argmax,
        "expand2": lambda t: t.unsqueeze(0).expand(2, *t.shape),
    }
    if op in simple:
        return [simple[op](x)]
    if op == "sum_dim":
        return [x.sum(step["dim"])]
    if op == "amax_dim":
        return [x.amax(step["dim"])]
    if op == "logsumexp_dim":
        return [x.logsumexp(step["dim"])]
    if op == "narrow0":
        return [x.narrow(0, step["start"], step["length"])]
    if op == "select0":
        return [x.select(0, step["index"])]
    if op == "index_select0":
        return [x.index_select(0, torch.tensor(step["index"], dtype=torch.int64))]
    binary = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "maximum": torch.maximum, "atan2": torch.atan2,
        "complex": torch.complex, "div_safe": lambda p, q: p / (q * q + 1),
        "add_int": lambda p, n: p + n.to(p.dtype),
    }
    if op in binary:
        return [binary[op](a[0], a[1])]
    if op == "fn_sincos_nd":
        return list(SinCosNonDifferentiableCos.apply(x))
    if op in FUNCTIONS:
        return [FUNCTIONS[op].apply(x)]
    raise ValueError(op)


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def pick(self, weighted):
        items, weights = zip(*weighted)
        return self.rng.choices(items, weights)[0]

    def value(self):
        return round(self.rng.gauss(0, 0.8), 6) or 0.25

    def inputs(self):
        shape = self.pick([((3,), 3), ((2, 2), 2), ((2, 3), 2), ((4,), 1), ((), 1)])
        n = self.pick([(1, 4), (2, 4), (3, 2)])
        result = []
        for k in range(n):
            dtype = self.pick([("float64", 12), ("complex128", 3), ("float32", 2), ("int64", 3)]) if k else \
                self.pick([("float64", 6), ("complex128", 2), ("float32", 1)])
            requires_grad = dtype != "int64" and (k == 0 or self.rng.random() < 0.8)
            layout = "contiguous"
            if len(shape) == 2 and self.rng.random() < 0.15:
                layout = "transposed"
            elif len(shape) >= 1 and self.rng.random() < 0.1:
                layout = "sliced"
            elif len(shape) >= 1 and self.rng.random() < 0.05:
                layout = "expanded"
            numel = 1
            for s in shape:
                numel *= s
            base = numel * (2 if layout == "sliced" else 1)
            if layout == "expanded":
                base = numel // shape[0]
            if dtype == "int64":
                values = [self.rng.randint(-3, 3) for _ in range(base)]
            elif dtype == "complex128":
                values = [self.value() for _ in range(2 * base)]
            else:
                values = [self.value() for _ in range(base)]
            result.append({"dtype": dtype, "shape": list(shape), "layout": layout, "requires_grad": requires_grad,
                           "values": values})
        return result

    def step(self, regs):
        """One operation on registers [(kind, shape)], or None when the draw does not fit."""
        i = self.rng.randrange(len(regs))
        kind, shape = regs[i]
        family = self.pick([("elementwise", 5), ("reduce", 2), ("view", 2), ("binary", 4), ("complex", 2),
                            ("function", 3), ("other", 1)])
        if kind == "i":
            if family != "binary":
                return None
        if family == "elementwise":
            ops = ELEMENTWISE_RC + (ELEMENTWISE_R if kind == "r" else [])
            return {"op": self.rng.choice(ops), "args": [i]}
        if family == "reduce":
            if len(shape) == 0:
                return None
            op = self.rng.choice(["sum", "mean", "prod", "norm"] + (["sum_dim", "amax_dim", "logsumexp_dim"]
                                                                     if kind == "r" else ["sum_dim"]))
            step = {"op": op, "args": [i]}
            if op.endswith("_dim"):
                step["dim"] = self.rng.randrange(len(shape))
            return step
        if family == "view":
            if len(shape) == 0:
                return {"op": "unsqueeze0", "args": [i]}
            op = self.rng.choice(["reshape_flat", "unsqueeze0", "flip0", "narrow0", "select0", "index_select0", "expand2"]
                                 + (["t"] if len(shape) == 2 else []))
            step = {"op": op, "args": [i]}
            if op == "narrow0":
                step["start"] = self.rng.randrange(shape[0])
                step["length"] = self.rng.randint(1, shape[0] - step["start"])
            if op == "select0":
                step["index"] = self.rng.randrange(shape[0])
            if op == "index_select0":
                step["index"] = [self.rng.randrange(shape[0]) for _ in range(self.rng.randint(1, 3))]
            return step
        if family == "binary":
            same = [j for j, (k2, s2) in enumerate(regs) if s2 == shape and j != i]
            if not same:
                return None
            j = self.rng.choice(same)
            other = regs[j][0]
            if kind == "i" and other == "r":
                return {"op": "add_int", "args": [j, i]}
            if other == "i" and kind == "r":
                return {"op": "add_int", "args": [i, j]}
            if "i" in (kind, other) or kind != other:
                return None
            ops = ["add", "sub", "mul"] + (["maximum", "atan2", "div_safe", "complex"] if kind == "r" else [])
            return {"op": self.rng.choice(ops), "args": [i, j]}
        if family == "complex":
            if kind == "c":
                return {"op": self.rng.choice(["conj", "real", "imag", "angle", "abs"]), "args": [i]}
            return {"op": "conj", "args": [i]}
        if family == "function":
            if kind == "c":
                return {"op": self.pick([("fn_csquare", 2), ("fn_csquare_missing_conj", 2)]), "args": [i]}
            op = self.pick([("fn_sin", 3), ("fn_scaled", 2), ("fn_ignores_grad_output", 2), ("fn_nan_where_negative", 2),
                            ("fn_wrong_shape", 1), ("fn_fails_on_undefined", 2), ("fn_sincos_nd", 2)])
            return {"op": op, "args": [i]}
        # other: detach, argmax
        if kind == "r" and self.rng.random() < 0.5 and len(shape) > 0:
            return {"op": "argmax", "args": [i]}
        return {"op": "detach", "args": [i]}

    def options(self, inputs):
        o = {"fast_mode": self.rng.random() < 0.3, "eps": 1e-6, "atol": 1e-5, "rtol": 1e-3, "nondet_tol": 0.0,
             "check_undefined_grad": self.rng.random() < 0.8, "check_grad_dtypes": self.rng.random() < 0.2,
             "raise_exception": self.rng.random() < 0.85}
        if any(x["dtype"] == "float32" for x in inputs):
            o.update(eps=1e-3, atol=1e-2, rtol=1e-2)
        else:
            o["eps"], o["atol"], o["rtol"] = self.pick([((1e-6, 1e-5, 1e-3), 6), ((1e-4, 1e-4, 1e-2), 2),
                                                        ((1e-6, 1e-7, 1e-5), 1), ((1e-7, 1e-4, 1e-3), 1)])
        if self.rng.random() < 0.15:
            o["nondet_tol"] = 1e-9
        return o


def make_input(spec):
    dtype = getattr(torch, spec["dtype"])
    shape = tuple(spec["shape"])
    v = spec["values"]
    if spec["dtype"] == "complex128":
        pairs = torch.tensor(v, dtype=torch.float64).reshape(-1, 2)
        flat = torch.complex(pairs[:, 0], pairs[:, 1])
    else:
        flat = torch.tensor(v, dtype=torch.float64).to(dtype)
    layout = spec["layout"]
    if layout == "transposed":
        x = flat.reshape(shape[1], shape[0]).t()
    elif layout == "sliced":
        x = flat.reshape(*shape[:-1], 2 * shape[-1])[..., ::2]
    elif layout == "expanded":
        x = flat.reshape(1, *shape[1:]).expand(*shape)
    else:
        x = flat.reshape(shape)
    return x.requires_grad_(spec["requires_grad"])


def program(case):
    def f(*xs):
        regs = list(xs)
        for step in case["steps"]:
            regs.extend(apply(step, regs))
        return tuple(regs[i] for i in case["outputs"])
    return f


def answer(case):
    inputs = [make_input(s) for s in case["inputs"]]
    o = case["options"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = gradcheck(program(case), tuple(inputs), eps=o["eps"], atol=o["atol"], rtol=o["rtol"],
                           nondet_tol=o["nondet_tol"], check_undefined_grad=o["check_undefined_grad"],
                           check_grad_dtypes=o["check_grad_dtypes"], fast_mode=o["fast_mode"],
                           raise_exception=o["raise_exception"])
        return ("pass", "") if ok else ("fail", "")
    except GradcheckError as e:
        return "fail", str(e).split("\n")[0]
    except Exception as e:  # noqa: BLE001 - every other exception is the "error" verdict
        return "error", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def generate(seed, count):
    g = Generator(seed)
    cases = []
    while len(cases) < count:
        inputs = g.inputs()
        kinds = {"float64": "r", "float32": "r", "complex128": "c", "int64": "i"}
        regs = [(kinds[x["dtype"]], tuple(x["shape"])) for x in inputs]
        steps = []
        tries = 0
        while len(steps) < g.rng.randint(1, 4) and tries < 40:
            tries += 1
            step = g.step(regs)
            if step is None:
                continue
            # The result kinds and shapes come from running the op on zeros of the right kinds and shapes.
            probe = [torch.zeros(s, dtype={"r": torch.float64, "c": torch.complex128, "i": torch.int64}[k]) for k, s in regs]
            try:
                out = apply(step, probe)
            except Exception:  # noqa: BLE001 - an op that does not fit these shapes is drawn again
                continue
            steps.append(step)
            regs.extend(("c" if t.is_complex() else "r" if t.is_floating_point() else "i", tuple(t.shape)) for t in out)
        if not steps:
            continue
        made = list(range(len(inputs), len(regs)))
        outputs = [made[-1]]
        if g.rng.random() < 0.35:
            outputs.append(g.rng.choice(made + [0]))
        case = {"id": f"s{seed}-{len(cases):04d}", "inputs": inputs, "steps": steps, "outputs": outputs,
                "options": g.options(inputs)}
        case["verdict"], case["message"] = answer(case)
        cases.append(case)
    return cases


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=43)
    p.add_argument("--count", type=int, default=520)
    p.add_argument("--out", default=CORPUS)
    a = p.parse_args()
    torch.manual_seed(0)
    cases = generate(a.seed, a.count)
    doc = {"generator": "scripts/golden/gradcheck_generated.py", "torch": torch.__version__, "seed": a.seed,
           "cases": cases}
    with open(a.out + ".tmp", "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)
    verdicts = {v: sum(c["verdict"] == v for c in cases) for v in ("pass", "fail", "error")}
    print(f"{len(cases)} cases, seed {a.seed}: {verdicts}", file=sys.stderr)


if __name__ == "__main__":
    main()
