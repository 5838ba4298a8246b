#!/usr/bin/python3
"""The PyTorch CIFAR-10 tutorial ("Training a classifier") as users run it, for one epoch, timed: torchvision's CIFAR10 dataset
on DIR/cifar-10-batches-py, ToTensor + Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), DataLoader(batch_size=4, shuffle=True,
num_workers=2), the tutorial's Net, CrossEntropyLoss, SGD(lr=0.001, momentum=0.9), its loss print every 2000 mini-batches.
torchvision checks the archive's MD5s, which generated files (make_cifar.py) cannot match: the check is bypassed, nothing else.
Prints {"seconds": epoch seconds, "images": n, "threads": torch threads}. Usage: peer_tutorial.py DIR [THREADS]
"""
import json
import os
import pickle
import sys
import time

import torch
import torch.nn as nn
import torch.optim as optim
import torchvision
import torchvision.transforms as transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from cifar_net import Net  # noqa: E402  (the tutorial's Net, verbatim)


class GeneratedCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR10 with its two MD5 checks (batches and meta file) bypassed; everything else is torchvision's."""

    def _check_integrity(self):   # the MD5s of the real archive; the generated batches differ by design
        return True

    def _load_meta(self):
        with open(os.path.join(self.root, self.base_folder, self.meta["filename"]), "rb") as infile:
            data = pickle.load(infile, encoding="latin1")
        self.classes = data[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}


def main():
    root = sys.argv[1]
    if len(sys.argv) > 2:
        torch.set_num_threads(int(sys.argv[2]))
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    trainset = GeneratedCIFAR10(root=root, train=True, download=False, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=True, num_workers=2)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    start = time.perf_counter()
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 2000 == 1999:
            print(f'[1, {i + 1:5d}] loss: {running_loss / 2000:.3f}', file=sys.stderr)
            running_loss = 0.0
    print(json.dumps({"seconds": time.perf_counter() - start, "images": len(trainset), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
