#!/usr/bin/python3
"""Golden Jacobians, Hessians, vector-Jacobian and Jacobian-vector products, and gradcheck verdicts from real PyTorch.

Writes tests/TorchLabs.Tests/Golden/autograd_functional.json for TorchLabs' GradCheck and AutogradFunctional tests:
- "jacobians": for each named function (the C# tests define the same functions by name) its float64 inputs, outputs and
  torch.autograd.functional.jacobian, block [i][j] = d output_i / d input_j with shape output_i.shape + input_j.shape;
- "hessians": torch.autograd.functional.hessian of scalar functions, block [i][j] with shape input_i.shape + input_j.shape;
- "vjp" and "jvp": torch.autograd.functional.vjp / jvp with a fixed v;
- "gradcheck": the verdict of torch.autograd.gradcheck (raise_exception=False) on torch.autograd.Function classes with a
  correct and with deliberately wrong backward formulas.
Usage: /usr/bin/python3 scripts/golden/autograd_functional.py  (Debian's python3-torch)
"""
import json
import os

import torch
import torch.nn.functional as F
from torch.autograd.functional import hessian, jacobian, jvp, vjp

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(14)


def rnd(*shape):
    return torch.randn(tuple(shape), generator=gen)


LABELS = torch.tensor([0, 3, 1])

# name -> (function of a tuple of inputs returning a tuple of outputs, input shapes)
FUNCTIONS = {
    "sin": (lambda x: (torch.sin(x),), [(5,)]),
    "x_exp_x": (lambda x: (x * torch.exp(x),), [(4,)]),
    "tanh": (lambda x: (torch.tanh(x),), [(2, 3)]),
    "softmax": (lambda x: (torch.softmax(x, 0),), [(5,)]),
    "log_softmax": (lambda x: (F.log_softmax(x, 1),), [(2, 3)]),
    "matvec": (lambda A, x: (A @ x,), [(3, 4), (4,)]),
    "cumsum": (lambda x: (torch.cumsum(x, 0),), [(5,)]),
    "norm": (lambda x: (x.norm(),), [(4,)]),
    "logsumexp": (lambda x: (torch.logsumexp(x, 1),), [(2, 3)]),
    "outer_squared": (lambda x, y: (torch.outer(x, y) ** 2,), [(3,), (2,)]),
    "two_outputs": (lambda x, y: (torch.sigmoid(x) * y, (x * y).sum()), [(3,), (3,)]),
    "layer_norm": (lambda x: (F.layer_norm(x, [4]),), [(2, 4)]),
    "cross_entropy": (lambda z: (F.cross_entropy(z, LABELS),), [(3, 4)]),
    "unused_input": (lambda x, y: (x * 2,), [(2,), (3,)]),
}
# Functions only the strict cases use (a detached output has no Jacobian worth comparing).
STRICT_ONLY = {"detached": (lambda x: (x.detach() * 2,), [(3,)])}

SCALARS = {
    "cubic": (lambda x: (x ** 3).sum(), [(4,)]),
    "logsumexp": (lambda x: torch.logsumexp(x, 0), [(5,)]),
    "quadratic_form": (lambda A, x: x @ A @ x, [(3, 3), (3,)]),
    "rosenbrock": (lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, [(2,)]),
    "prod_sin": (lambda x: torch.sin(x).prod(), [(4,)]),
}


def enc(t):
    return {"shape": list(t.shape), "values": t.detach().reshape(-1).tolist()}


def jacobians():
    out = []
    for name, (f, shapes) in FUNCTIONS.items():
        inputs = tuple(rnd(*s) for s in shapes)
        outputs = f(*inputs)
        jac = jacobian(lambda *xs: f(*xs), inputs)
        out.append({"name": name, "inputs": [enc(x) for x in inputs], "outputs": [enc(y) for y in outputs],
                    "jacobian": [[enc(jac[i][j]) for j in range(len(inputs))] for i in range(len(outputs))]})
    return out


def hessians():
    out = []
    for name, (f, shapes) in SCALARS.items():
        inputs = tuple(rnd(*s) for s in shapes)
        h = hessian(f, inputs)
        out.append({"name": name, "inputs": [enc(x) for x in inputs], "value": f(*inputs).item(),
                    "hessian": [[enc(h[i][j]) for j in range(len(inputs))] for i in range(len(inputs))]})
    return out


def products():
    vjps, jvps = [], []
    for name in ["matvec", "softmax", "two_outputs", "layer_norm"]:
        f, shapes = FUNCTIONS[name]
        inputs = tuple(rnd(*s) for s in shapes)
        outputs = f(*inputs)
        v_out = tuple(rnd(*y.shape) for y in outputs)
        v_in = tuple(rnd(*s) for s in shapes)
        _, u = vjp(lambda *xs: f(*xs), inputs, v_out)
        _, w = jvp(lambda *xs: f(*xs), inputs, v_in)
        vjps.append({"name": name, "inputs": [enc(x) for x in inputs], "v": [enc(v) for v in v_out], "vjp": [enc(t) for t in u]})
        jvps.append({"name": name, "inputs": [enc(x) for x in inputs], "v": [enc(v) for v in v_in], "jvp": [enc(t) for t in w]})
    return vjps, jvps


class SinCorrect(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.cos(x)


class SinTwice(torch.autograd.Function):
    """Backward off by a factor of 2."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * g * torch.cos(x)


class XSinXMissingTerm(torch.autograd.Function):
    """x sin x with the product rule's x cos x term missing."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.sin(x)


class MatVecTransposed(torch.autograd.Function):
    """y = A x with dL/dx = A g instead of A^T g (a transposed Jacobian); A is square."""
    @staticmethod
    def forward(ctx, A, x):
        ctx.save_for_backward(A, x)
        return A @ x

    @staticmethod
    def backward(ctx, g):
        A, x = ctx.saved_tensors
        return torch.outer(g, x), A @ g


def verdicts():
    cases = []
    for name, fn, shapes in [("sin_correct", SinCorrect, [(4,)]), ("sin_twice", SinTwice, [(4,)]),
                             ("x_sin_x_missing_term", XSinXMissingTerm, [(4,)]), ("matvec_transposed", MatVecTransposed, [(3, 3), (3,)])]:
        inputs = tuple(rnd(*s).requires_grad_(True) for s in shapes)
        ok = torch.autograd.gradcheck(fn.apply, inputs, raise_exception=False)
        cases.append({"name": name, "inputs": [enc(x) for x in inputs], "pass": bool(ok)})
    return cases


# (API, function): torch.autograd.functional's strict=True; the first line of the RuntimeError it raises, or "" when it passes.
STRICT = [("jacobian", "unused_input"), ("vjp", "unused_input"), ("jvp", "unused_input"), ("jacobian", "detached"),
          ("vjp", "detached"), ("jvp", "detached"), ("jacobian", "sin"), ("vjp", "matvec"), ("jvp", "matvec")]


def strict_cases():
    out = []
    for api, name in STRICT:
        f, shapes = FUNCTIONS[name] if name in FUNCTIONS else STRICT_ONLY[name]
        inputs = tuple(rnd(*s) for s in shapes)
        try:
            if api == "jacobian":
                jacobian(lambda *xs: f(*xs), inputs, strict=True)
            elif api == "vjp":
                vjp(lambda *xs: f(*xs), inputs, tuple(torch.ones_like(y) for y in f(*inputs)), strict=True)
            else:
                jvp(lambda *xs: f(*xs), inputs, tuple(torch.ones_like(x) for x in inputs), strict=True)
            message = ""
        except RuntimeError as e:
            message = str(e).strip().split("\n")[0]
        out.append({"api": api, "name": name, "inputs": [enc(x) for x in inputs], "message": message})
    return out


def main():
    vjps, jvps = products()
    data = {"torch": torch.__version__, "jacobians": jacobians(), "hessians": hessians(), "vjp": vjps, "jvp": jvps, "gradcheck": verdicts(),
            "strict": strict_cases()}
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "autograd_functional.json")
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.replace(path + ".tmp", path)
    print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
