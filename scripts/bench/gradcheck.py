#!/usr/bin/python3
"""PyTorch's own gradcheck, slow and fast mode, on the function of GradCheckBench (scripts/bench/micro/Program.cs):
y = tanh(W x), W 100 x 1000 fixed, x 1000 requiring grad, float64, one thread. Prints the median of 7 runs of each, in ms.
Usage: /usr/bin/python3 scripts/bench/gradcheck.py  (Debian's python3-torch)
"""
import statistics
import time

import torch

torch.set_num_threads(1)
gen = torch.Generator().manual_seed(1)
W = torch.randn(100, 1000, generator=gen, dtype=torch.float64) / 1000 ** 0.5
x = torch.randn(1000, generator=gen, dtype=torch.float64).requires_grad_(True)


def f(v):
    return torch.tanh(W @ v)


def median_ms(fast):
    times = []
    for _ in range(7):
        t = time.perf_counter()
        assert torch.autograd.gradcheck(f, (x,), fast_mode=fast)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


slow, fast = median_ms(False), median_ms(True)
print(f"torch {torch.__version__}: gradcheck slow {slow:.2f} ms, fast {fast:.3f} ms, slow/fast {slow / fast:.0f}x")
