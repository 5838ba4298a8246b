#!/usr/bin/python3
"""Python PyTorch peers for scripts/bench/run.sh (Debian's python3-torch). Prints one JSON object.

  peer_pytorch.py cifar-net-train BATCH STEPS THREADS   -> imagesPerSecond, the tutorial Net with SGD(0.001, 0.9)
  peer_pytorch.py optimizer-step OPTIMIZER STEPS THREADS -> msPerStep of torch.optim on the Net's parameters
"""
import json
import sys
import time

import torch
import torch.nn as nn
import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from cifar_net import Net  # noqa: E402  (the tutorial's Net, verbatim, one copy)


def cifar_net_train(batch, steps, threads, warmup=20, phase="full"):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    xs = [torch.randn(batch, 3, 32, 32) for _ in range(16)]
    ys = [torch.randint(0, 10, (batch,)) for _ in range(16)]

    def step(i):
        if phase == "forward":
            with torch.no_grad():
                crit(net(xs[i % 16]), ys[i % 16])
            return
        opt.zero_grad()
        loss = crit(net(xs[i % 16]), ys[i % 16])
        loss.backward()
        if phase == "full":
            opt.step()

    for i in range(warmup):
        step(i)
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    return {"case": "cifar-net-train", "peer": "python-pytorch", "torch": torch.__version__, "batchSize": batch, "steps": steps,
            "threads": threads, "imagesPerSecond": steps * batch / (time.perf_counter() - t0)}


def optimizer_step(name, steps, threads, warmup=50):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = Net()
    for p in net.parameters():
        p.grad = torch.randn_like(p) * 0.01
    opt = {"adam": lambda ps: torch.optim.Adam(ps, lr=0.001), "sgd": lambda ps: torch.optim.SGD(ps, lr=0.001, momentum=0.9),
           "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.001), "adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.01)}[name](net.parameters())
    for _ in range(warmup):
        opt.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return {"case": "optimizer-step", "peer": "python-torch.optim", "torch": torch.__version__, "optimizer": name, "steps": steps,
            "threads": threads, "msPerStep": (time.perf_counter() - t0) * 1000 / steps}


if __name__ == "__main__":
    case = sys.argv[1]
    if case == "cifar-net-train":
        print(json.dumps(cifar_net_train(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), phase=sys.argv[5] if len(sys.argv) > 5 else "full")))
    elif case == "optimizer-step":
        print(json.dumps(optimizer_step(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        sys.exit(f"unknown case {case}")
