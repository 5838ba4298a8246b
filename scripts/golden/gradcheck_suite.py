#!/usr/bin/python3
"""PyTorch's own gradcheck / gradgradcheck, slow and fast, on a suite of cases, for TorchLabs' GradCheck side by side.

Writes tests/TorchLabs.Tests/Golden/gradcheck_suite.json. Each case names a function (the C# test defines the same
function under the same name), its float64 inputs bit for bit (JSON floats round-trip exactly), how each input is laid
out (contiguous, transposed, expanded), which inputs require grad, the options, and what PyTorch 1.13 said:
- "verdict": "pass", "fail" (GradcheckError) or "error" (any other exception: refused inputs, autograd errors);
- "message": the first line of PyTorch's message;
- "jacobians" (slow mode, when every backward runs): per differentiable output i and input j that requires grad, the
  numerical and analytical Jacobians in PyTorch's orientation (rows: input elements, columns: output elements);
- "fast" (fast mode): the u and v vectors and the numerical and analytical scalars vᵀJu per (input, output).
Also "functional": hvp / vhp of scalar functions (torch.autograd.functional).
Usage: /usr/bin/python3 scripts/golden/gradcheck_suite.py  (Debian's python3-torch)
"""
import json
import os
import sys
import warnings

import torch
import torch.autograd
import torch.nn.functional as F
from torch.autograd import Function
from torch.autograd.functional import hvp, vhp

gc = sys.modules["torch.autograd.gradcheck"]

gen = torch.Generator().manual_seed(25)


def rnd(*shape):
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float64)


# ----- hand-written Functions, right and wrong (tests/TorchLabs.Tests/Gradients/SuiteFunctions.cs has the same) -----
def unary(name, forward, backward):
    class Fn(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return forward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return backward(x, g)
    Fn.__name__ = name
    return Fn


SinCorrect = unary("SinCorrect", torch.sin, lambda x, g: g * torch.cos(x))
SinScaled = unary("SinScaled", torch.sin, lambda x, g: 2 * g * torch.cos(x))
XSinXMissingTerm = unary("XSinXMissingTerm", lambda x: x * torch.sin(x), lambda x, g: g * torch.sin(x))
SinIgnoresGradOutput = unary("SinIgnoresGradOutput", torch.sin, lambda x, g: torch.cos(x))
CubeDetachedBackward = unary("CubeDetachedBackward", lambda x: x ** 3, lambda x, g: g * 3 * x.detach() ** 2)
CubeCorrect = unary("CubeCorrect", lambda x: x ** 3, lambda x, g: g * 3 * x ** 2)
SinWrongShape = unary("SinWrongShape", torch.sin, lambda x, g: (g * torch.cos(x)).sum())
ExpWrongFirstElement = unary("ExpWrongFirstElement", torch.exp,
                             lambda x, g: g * torch.exp(x) * torch.cat([torch.full((1,), 1.5), torch.ones(x.numel() - 1)]))


def sin_modifies_input_backward(x, g):
    grad = g * torch.cos(x)
    x.mul_(1.5)
    return grad


SinModifiesInput = unary("SinModifiesInput", torch.sin, sin_modifies_input_backward)

noise = torch.Generator().manual_seed(7)
SinNoisy = unary("SinNoisy", torch.sin, lambda x, g: g * torch.cos(x) + 1e-7 * torch.randn(x.shape, generator=noise, dtype=x.dtype))


class MatVecTransposed(Function):
    """y = A x with dL/dx = A g instead of A^T g; A square."""
    @staticmethod
    def forward(ctx, A, x):
        ctx.save_for_backward(A, x)
        return A @ x

    @staticmethod
    def backward(ctx, g):
        A, x = ctx.saved_tensors
        return torch.outer(g, x), A @ g


class MulWrongSecond(Function):
    """x * y, right for x, wrong for y (g instead of g * x)."""
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g


class SinCosWrongSecondOutput(Function):
    """(sin x, cos x); the cos output's term has the wrong sign."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x), torch.cos(x)

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return g1 * torch.cos(x) + g2 * torch.sin(x)


class SinCosCorrect(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x), torch.cos(x)

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return g1 * torch.cos(x) - g2 * torch.sin(x)


def spd(M):
    return M @ M.mT + 3 * torch.eye(M.shape[-1])


LABELS = torch.tensor([0, 3, 1])
INDEX = torch.tensor([[0, 2, 1], [1, 0, 0]])

# name -> function of the inputs, returning a tuple of outputs
FUNCTIONS = {
    "sin": lambda x: (torch.sin(x),),
    "tanh_matvec": lambda A, x: (torch.tanh(A @ x),),
    "unused_input": lambda x, y, z: (x * z,),
    "constant_input": lambda x, c: (x * c + c,),
    "one_output_without_graph": lambda x: (torch.sin(x), x.detach() * 3),
    "no_output_with_graph": lambda x: (x.detach() * 3,),
    "no_output_with_graph_constant": lambda x: (torch.ones(3),),
    "non_contiguous": lambda x: (torch.sin(x) * torch.arange(1.0, x.numel() + 1).reshape(x.shape),),
    "expanded": lambda x: (torch.sin(x) * 2,),
    "zero_dim": lambda x: (x ** 3,),
    "zero_dim_output": lambda x: ((x ** 2).sum(),),
    "tuple_outputs": lambda x, y: (torch.sigmoid(x) * y, (x * y).sum()),
    "cholesky": lambda M: (torch.linalg.cholesky(spd(M)),),
    "solve": lambda A, b: (torch.linalg.solve(spd(A), b),),
    "svdvals": lambda A: (torch.linalg.svdvals(A),),
    "eigvalsh": lambda A: (torch.linalg.eigvalsh(A + A.mT),),
    "cumprod": lambda x: (torch.cumprod(x, 0),),
    "sort": lambda x: (torch.sort(x).values,),
    "gather": lambda x: (torch.gather(x, 1, INDEX),),
    "scatter_add": lambda x, s: (torch.scatter_add(x, 1, INDEX, s),),
    "where": lambda x: (torch.where(x > 0, x * x, torch.sin(x)),),
    "logsumexp": lambda x: (torch.logsumexp(x, 1),),
    "atan2": lambda y, x: (torch.atan2(y, x),),
    "pow_tensor_exponent": lambda x, p: (torch.pow(x.abs() + 0.5, p),),
    "cross_entropy": lambda z: (F.cross_entropy(z, LABELS),),
    "layer_norm": lambda x: (F.layer_norm(x, [4]),),
    "softmax_two_inputs": lambda x, y: (torch.softmax(x * y, 0),),
    "relu_at_zero": lambda x: (torch.relu(x),),
    "abs_at_zero": lambda x: (torch.abs(x),),
    "sin_float32": lambda x: (torch.sin(x),),
    "hand_sin": lambda x: (SinCorrect.apply(x),),
    "hand_sin_scaled": lambda x: (SinScaled.apply(x),),
    "hand_x_sin_x_missing_term": lambda x: (XSinXMissingTerm.apply(x),),
    "hand_matvec_transposed": lambda A, x: (MatVecTransposed.apply(A, x),),
    "hand_mul_wrong_second": lambda x, y: (MulWrongSecond.apply(x, y),),
    "hand_sin_ignores_grad_output": lambda x: (SinIgnoresGradOutput.apply(x),),
    "hand_sin_noisy": lambda x: (SinNoisy.apply(x),),
    "hand_sin_modifies_input": lambda x: (SinModifiesInput.apply(x),),
    "hand_sin_cos_wrong_second_output": lambda x: SinCosWrongSecondOutput.apply(x),
    "hand_sin_cos": lambda x: SinCosCorrect.apply(x),
    "hand_exp_wrong_first_element": lambda x: (ExpWrongFirstElement.apply(x),),
    "hand_sin_wrong_shape": lambda x: (SinWrongShape.apply(x),),
    "hand_cube": lambda x: (CubeCorrect.apply(x),),
    "hand_cube_detached_backward": lambda x: (CubeDetachedBackward.apply(x),),
    "ones_and_wrong": lambda x: (torch.ones(3), SinScaled.apply(x)),
    "output_without_graph_first": lambda x: (x.detach() * 3, torch.sin(x)),
}


def inp(*shape, grad=True, view=None, positive=False, at=None, dtype=torch.float64):
    """An input: its base values (drawn now), a view applied to them (t, expand:3,4) and whether it requires grad."""
    base = rnd(*shape)
    if positive:
        base = base.abs() + 0.5
    if at is not None:
        base = torch.tensor(at, dtype=torch.float64).reshape(shape)
    # PyTorch's default dtype stays float32, as a user's: fast mode draws u and v in float32, then converts them
    return {"base": base, "view": view, "grad": grad, "dtype": dtype}


def make(spec):
    t = spec["base"].to(spec["dtype"])
    if spec["view"] == "t":
        t = t.t()
    elif spec["view"] and spec["view"].startswith("expand:"):
        t = t.expand(*[int(s) for s in spec["view"][7:].split(",")])
    return t.requires_grad_(spec["grad"])


# (case name, function name, inputs, mode, options)
CASES = [
    ("sin", "sin", [inp(5)], "gradcheck", {}),
    ("tanh_matvec", "tanh_matvec", [inp(3, 4), inp(4)], "gradcheck", {}),
    ("unused_input", "unused_input", [inp(3), inp(2), inp(3)], "gradcheck", {}),
    ("constant_input", "constant_input", [inp(4), inp(4, grad=False)], "gradcheck", {}),
    ("one_output_without_graph", "one_output_without_graph", [inp(3)], "gradcheck", {}),
    ("no_output_with_graph", "no_output_with_graph", [inp(3)], "gradcheck", {}),
    ("no_output_with_graph_constant", "no_output_with_graph_constant", [inp(3)], "gradcheck", {}),
    ("non_contiguous", "non_contiguous", [inp(4, 3, view="t")], "gradcheck", {}),
    ("expanded", "expanded", [inp(4, view="expand:3,4")], "gradcheck", {}),
    ("no_input_requires_grad", "sin", [inp(3, grad=False)], "gradcheck", {}),
    ("zero_dim", "zero_dim", [inp()], "gradcheck", {}),
    ("zero_dim_output", "zero_dim_output", [inp(3)], "gradcheck", {}),
    ("tuple_outputs", "tuple_outputs", [inp(3), inp(3)], "gradcheck", {}),
    ("cholesky", "cholesky", [inp(3, 3)], "gradcheck", {}),
    ("solve", "solve", [inp(3, 3), inp(3, 2)], "gradcheck", {}),
    ("svdvals", "svdvals", [inp(3, 4)], "gradcheck", {}),
    ("eigvalsh", "eigvalsh", [inp(3, 3)], "gradcheck", {}),
    ("cumprod", "cumprod", [inp(5)], "gradcheck", {}),
    ("sort", "sort", [inp(5)], "gradcheck", {}),
    ("gather", "gather", [inp(2, 3)], "gradcheck", {}),
    ("scatter_add", "scatter_add", [inp(2, 4), inp(2, 3)], "gradcheck", {}),
    ("where", "where", [inp(6)], "gradcheck", {}),
    ("logsumexp", "logsumexp", [inp(2, 3)], "gradcheck", {}),
    ("atan2", "atan2", [inp(4), inp(4)], "gradcheck", {}),
    ("pow_tensor_exponent", "pow_tensor_exponent", [inp(4), inp(4)], "gradcheck", {}),
    ("cross_entropy", "cross_entropy", [inp(3, 4)], "gradcheck", {}),
    ("layer_norm", "layer_norm", [inp(2, 4)], "gradcheck", {}),
    ("softmax_two_inputs", "softmax_two_inputs", [inp(4), inp(4)], "gradcheck", {}),
    ("relu_at_zero", "relu_at_zero", [inp(3, at=[0.0, 0.7, -0.4])], "gradcheck", {}),
    ("abs_at_zero", "abs_at_zero", [inp(3, at=[0.3, 0.0, -0.4])], "gradcheck", {}),
    ("sin_float32", "sin_float32", [inp(4, dtype=torch.float32)], "gradcheck", {}),
    ("hand_sin", "hand_sin", [inp(4)], "gradcheck", {}),
    ("hand_sin_scaled", "hand_sin_scaled", [inp(4)], "gradcheck", {}),
    ("hand_x_sin_x_missing_term", "hand_x_sin_x_missing_term", [inp(4)], "gradcheck", {}),
    ("hand_matvec_transposed", "hand_matvec_transposed", [inp(3, 3), inp(3)], "gradcheck", {}),
    ("hand_mul_wrong_second", "hand_mul_wrong_second", [inp(3), inp(3)], "gradcheck", {}),
    ("hand_sin_ignores_grad_output_one_element", "hand_sin_ignores_grad_output", [inp(1)], "gradcheck", {}),
    ("hand_sin_ignores_grad_output", "hand_sin_ignores_grad_output", [inp(3)], "gradcheck", {}),
    ("hand_sin_noisy", "hand_sin_noisy", [inp(3)], "gradcheck", {}),
    ("hand_sin_noisy_nondet_tol", "hand_sin_noisy", [inp(3)], "gradcheck", {"nondet_tol": 1e-6}),
    ("hand_sin_modifies_input", "hand_sin_modifies_input", [inp(3)], "gradcheck", {}),
    ("hand_sin_cos_wrong_second_output", "hand_sin_cos_wrong_second_output", [inp(3)], "gradcheck", {}),
    ("hand_sin_cos", "hand_sin_cos", [inp(3)], "gradcheck", {}),
    ("hand_exp_wrong_first_element", "hand_exp_wrong_first_element", [inp(4)], "gradcheck", {}),
    ("hand_sin_wrong_shape", "hand_sin_wrong_shape", [inp(3)], "gradcheck", {}),
    ("ones_and_wrong", "ones_and_wrong", [inp(3)], "gradcheck", {}),
    ("hand_sin_scaled_loose", "hand_sin_scaled", [inp(4)], "gradcheck", {"atol": 2.0, "rtol": 0.0}),
    # second derivatives
    ("gg_sin", "sin", [inp(4)], "gradgradcheck", {}),
    ("gg_tanh_matvec", "tanh_matvec", [inp(3, 4), inp(4)], "gradgradcheck", {}),
    ("gg_logsumexp", "logsumexp", [inp(2, 3)], "gradgradcheck", {}),
    ("gg_atan2", "atan2", [inp(3), inp(3)], "gradgradcheck", {}),
    ("gg_cross_entropy", "cross_entropy", [inp(3, 4)], "gradgradcheck", {}),
    ("gg_unused_input", "unused_input", [inp(3), inp(2), inp(3)], "gradgradcheck", {}),
    ("gg_hand_cube", "hand_cube", [inp(3)], "gradgradcheck", {}),
    ("gg_hand_cube_detached_backward", "hand_cube_detached_backward", [inp(3)], "gradgradcheck", {}),
    ("gg_hand_sin_scaled", "hand_sin_scaled", [inp(3)], "gradgradcheck", {}),
    ("gg_no_input_requires_grad", "sin", [inp(3, grad=False)], "gradgradcheck", {}),
    # fast mode
    ("fast_sin", "sin", [inp(5)], "fast", {}),
    ("fast_tanh_matvec", "tanh_matvec", [inp(3, 4), inp(4)], "fast", {}),
    ("fast_tuple_outputs", "tuple_outputs", [inp(3), inp(3)], "fast", {}),
    ("fast_layer_norm", "layer_norm", [inp(2, 4)], "fast", {}),
    ("fast_cholesky", "cholesky", [inp(3, 3)], "fast", {}),
    ("fast_hand_sin_scaled", "hand_sin_scaled", [inp(4)], "fast", {}),
    ("fast_hand_x_sin_x_missing_term", "hand_x_sin_x_missing_term", [inp(4)], "fast", {}),
    ("fast_hand_matvec_transposed", "hand_matvec_transposed", [inp(3, 3), inp(3)], "fast", {}),
    ("fast_hand_mul_wrong_second", "hand_mul_wrong_second", [inp(3), inp(3)], "fast", {}),
    ("fast_hand_sin_ignores_grad_output", "hand_sin_ignores_grad_output", [inp(3)], "fast", {}),
    ("fast_hand_sin_cos_wrong_second_output", "hand_sin_cos_wrong_second_output", [inp(3)], "fast", {}),
    ("fast_hand_exp_wrong_first_element", "hand_exp_wrong_first_element", [inp(4)], "fast", {}),
    ("fast_no_output_with_graph", "no_output_with_graph", [inp(3)], "fast", {}),
    # PyTorch 1.13's fast mode pairs v with the wrong output here (zip of the differentiable outputs' v with every
    # floating-point output's J u): it fails a correct function that its slow mode passes.
    ("output_without_graph_first", "output_without_graph_first", [inp(3)], "gradcheck", {}),
    ("fast_output_without_graph_first", "output_without_graph_first", [inp(3)], "fast", {}),
]


def enc(t):
    return {"shape": list(t.shape), "values": t.detach().to(torch.float64).reshape(-1).tolist()}


def first_line(e):
    return str(e).strip().split("\n")[0].strip()


def slow_jacobians(fn, inputs):
    """Numerical and analytical Jacobians [differentiable output][input requiring grad], rows = input elements."""
    func_out = gc._as_tuple(fn(*inputs))
    outputs = gc._differentiable_outputs(func_out)
    numerical = gc._transpose(gc._get_numerical_jacobian(fn, inputs, func_out, eps=1e-6))
    numerical = [nj for o, nj in zip(func_out, numerical) if o.requires_grad]
    result = []
    for i, o in enumerate(outputs):
        analytical = gc._check_analytical_jacobian_attributes(inputs, o, float("inf"), False)
        result.append([{"numerical": enc(n), "analytical": enc(a)} for a, n in zip(analytical, numerical[i])])
    return result


def first_derivatives(fn, inputs, num_outputs):
    """gradgradcheck's function of (inputs, grad_outputs): the gradients of the inputs that require grad, unused ones left out."""
    diff = [i for i, x in enumerate(inputs) if x.requires_grad]

    def new_func(*args):
        xs = args[:-num_outputs]
        outputs = gc._differentiable_outputs(fn(*xs))
        grads = torch.autograd.grad(outputs, tuple(xs[i] for i in diff), args[-num_outputs:], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)
    return new_func


def fast_quantities(fn, inputs):
    func_out = gc._as_tuple(fn(*inputs))
    outputs = gc._differentiable_outputs(func_out)
    idx, inp_tensors = gc._get_inp_tensors(inputs)
    all_v, all_u, all_u_dense = gc._make_vectors(inp_tensors, outputs, use_forward_ad=False)
    numerical = gc._get_numerical_vJu(fn, inputs, idx, func_out, all_u, all_v, 1e-6, False)
    analytical = gc._get_analytical_vJu_backward_mode(inputs, outputs, float("inf"), False, all_v, all_u_dense)
    return {"u": [enc(u) for u in all_u], "v": [enc(v) for v in all_v],
            "numerical": [[float(x) for x in row] for row in numerical],        # [input][output]
            "analytical": [[float(x) for x in row] for row in analytical]}      # [output][input]


def run_case(name, fname, specs, mode, options):
    fn = FUNCTIONS[fname]
    inputs = tuple(make(s) for s in specs)
    entry = {"name": name, "function": fname, "mode": mode, "options": options,
             "inputs": [{"base": enc(s["base"]), "view": s["view"], "requiresGrad": s["grad"],
                         "dtype": "float32" if s["dtype"] == torch.float32 else "float64"} for s in specs]}
    grad_outputs = None
    if mode == "gradgradcheck":
        try:
            outs = gc._differentiable_outputs(fn(*inputs))
            grad_outputs = tuple(rnd(*o.shape).requires_grad_(True) for o in outs)
            entry["gradOutputs"] = [enc(g) for g in grad_outputs]
        except Exception:
            grad_outputs = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if mode == "gradgradcheck":
                ok = torch.autograd.gradgradcheck(fn, inputs, grad_outputs, **options)
            else:
                ok = torch.autograd.gradcheck(fn, inputs, fast_mode=(mode == "fast"), **options)
            entry["verdict"], entry["message"] = ("pass" if ok else "fail"), ""
        except gc.GradcheckError as e:
            entry["verdict"], entry["message"] = "fail", first_line(e)
        except Exception as e:
            entry["verdict"], entry["message"] = "error", f"{type(e).__name__}: {first_line(e)}"
        entry["warnings"] = [first_line(w.message) for w in caught if "gradient" in str(w.message) or "precision" in str(w.message)]
    if mode == "gradcheck" and entry["verdict"] != "error" and "noisy" not in fname:
        try:
            entry["jacobians"] = slow_jacobians(fn, tuple(make(s) for s in specs))
        except Exception:
            pass
    if mode == "gradgradcheck" and entry["verdict"] != "error":
        inputs = tuple(make(s) for s in specs)
        try:
            entry["jacobians"] = slow_jacobians(first_derivatives(fn, inputs, len(grad_outputs)), inputs + grad_outputs)
        except Exception:
            pass
    if mode == "fast" and entry["verdict"] != "error":
        try:
            entry["fast"] = fast_quantities(fn, tuple(make(s) for s in specs))
        except Exception:
            pass
    return entry


SCALARS = {
    "cubic": (lambda x: (x ** 3).sum(), [(4,)]),
    "rosenbrock": (lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, [(2,)]),
    "quadratic_form": (lambda A, x: x @ A @ x, [(3, 3), (3,)]),
    "logsumexp_prod": (lambda x, y: torch.logsumexp(x * y, 0), [(4,), (4,)]),
}


def functional():
    out = []
    for name, (f, shapes) in SCALARS.items():
        inputs = tuple(rnd(*s) for s in shapes)
        v = tuple(rnd(*s) for s in shapes)
        _, hv = hvp(f, inputs, v)
        _, vh = vhp(f, inputs, v)
        out.append({"name": name, "inputs": [enc(x) for x in inputs], "v": [enc(t) for t in v], "value": f(*inputs).item(),
                    "hvp": [enc(t) for t in hv], "vhp": [enc(t) for t in vh]})
    return out


def main():
    cases = [run_case(*c) for c in CASES]
    data = {"torch": torch.__version__, "cases": cases, "functional": functional()}
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "gradcheck_suite.json")
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.replace(path + ".tmp", path)
    for c in cases:
        print(f"{c['name']:45s} {c['verdict']:5s} {c['message'][:90]}")
    print(f"wrote {os.path.normpath(path)}: {len(cases)} cases")


if __name__ == "__main__":
    main()
