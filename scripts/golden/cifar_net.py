#!/usr/bin/python3
"""Golden files for TorchLabs' PyTorch interoperability (Debian's python3-torch).

Trains the CIFAR-10 tutorial's Net exactly as the tutorial does (CrossEntropyLoss, SGD lr 0.001 momentum 0.9, batch 4) for one
epoch on 2,000 generated CIFAR-format images (scripts/bench/make_cifar.py's class patterns), with torch.manual_seed(0), and
writes to tests/TorchLabs.Tests/Golden/:
- cifar_net.pth: torch.save(net.state_dict(), PATH), the tutorial's own file;
- cifar_net_inputs.bin: four fixed images, float32 [4, 3, 32, 32], little-endian;
- cifar_net.json: the net's logits for those images (float32 values as float64).
Usage: /usr/bin/python3 scripts/golden/cifar_net.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "bench"))
from make_cifar import images  # noqa: E402


class Net(nn.Module):
    """The tutorial's Net, verbatim."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def normalize(pix):
    """The tutorial's ToTensor + Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) on CHW bytes."""
    return (torch.from_numpy(pix.reshape(-1, 3, 32, 32).astype(np.float32)) / 255.0 - 0.5) / 0.5


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    labels, pix = images(2000, np.random.default_rng(7))
    x, y = normalize(pix), torch.from_numpy(labels.astype(np.int64))
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    perm = torch.randperm(len(y))
    for i in range(0, len(y), 4):
        idx = perm[i:i + 4]
        optimizer.zero_grad()
        loss = criterion(net(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
    gold = os.path.join(here, "..", "..", "tests", "TorchLabs.Tests", "Golden")
    torch.save(net.state_dict(), os.path.join(gold, "cifar_net.pth"))
    _, test_pix = images(4, np.random.default_rng(11))
    inputs = normalize(test_pix)
    inputs.numpy().astype("<f4").tofile(os.path.join(gold, "cifar_net_inputs.bin"))
    with torch.no_grad():
        logits = net(inputs)
    with open(os.path.join(gold, "cifar_net.json"), "w") as f:
        json.dump({"torch": torch.__version__, "keys": list(net.state_dict().keys()), "logits": logits.double().tolist()}, f, indent=1)
    print("wrote cifar_net.pth, cifar_net_inputs.bin, cifar_net.json", file=sys.stderr)


if __name__ == "__main__":
    main()
