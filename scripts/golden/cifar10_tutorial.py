#!/usr/bin/python3
"""Golden numbers of PyTorch's CIFAR-10 tutorial ("Training a classifier"), run as written with torch.manual_seed(S) added.

The tutorial's script, statement by statement (the imshow calls left out: they draw nothing), on a generated CIFAR-format set
that tests/TorchLabs.Tests/Data/SyntheticCifar.cs makes with the same bits (torch.randint from a generator seeded with 11 for
the training images and 12 for the test images; each class a colour and stripe pattern plus noise,
and half the images showing a random class's pattern, so that the loss stays near CIFAR-10's). What it records, per seed:
- the initial state dict of Net(): the SHA-256 of each parameter's float32 bytes (little-endian) and its first values;
- the permutation RandomSampler draws on every iter(trainloader): the script's peek and each epoch (recorded by wrapping
  torch.randperm, which draws nothing itself; the sampler's second randperm at the end of a pass, from its own generator,
  is left out);
- the outputs of conv1, conv2 (SHA-256) and fc1 (values) in the first training step;
- every step's loss.item(), the tutorial's logged running losses (every LOG_EVERY mini-batches) and its accuracy lines.
It writes tests/TorchLabs.Tests/Golden/cifar10_tutorial.json.

torchvision checks the MD5 sums of the real CIFAR-10 files; the generated set has others, so that check only asks that the
file exists.
Usage: /usr/bin/python3 scripts/golden/cifar10_tutorial.py  (needs Debian's python3-torch and python3-torchvision)
"""
import hashlib
import json
import os
import pickle
import sys
import tempfile

import torch
import torchvision
import torchvision.transforms as transforms

SEEDS = [0, 3]
TRAIN, TEST = 5000, 1000
LOG_EVERY = 250           # the tutorial's 2000, for a set of 5,000 images
EPOCHS = 2
PALETTE = [[200, 40, 40], [40, 200, 40], [40, 40, 200], [200, 200, 40], [200, 40, 200],
           [40, 200, 200], [120, 120, 120], [200, 120, 40], [40, 120, 200], [120, 40, 120]]
NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def images(n, seed):
    """n images [n, 3, 32, 32] uint8 and their labels, from torch.randint on a generator seeded with seed."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    other = torch.randint(0, 10, (n,), generator=g)
    shown = torch.where(torch.randint(0, 2, (n,), generator=g) == 0, labels, other)   # half the images show a random class
    noise = torch.randint(-60, 61, (n, 3, 32, 32), generator=g)
    x = torch.arange(32)
    base = torch.empty((10, 3, 32, 32), dtype=torch.int64)
    for c in range(10):
        coord = x[None, :].expand(32, 32) if c % 2 == 0 else x[:, None].expand(32, 32)
        stripe = torch.where((coord // (2 + c % 3)) % 2 == 0, 40, 0)
        base[c] = torch.tensor(PALETTE[c])[:, None, None] + stripe[None]
    pixels = (base[shown] + noise).clamp(0, 255).to(torch.uint8)
    return labels.to(torch.uint8), pixels


def write_python_format(root):
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder)
    labels, pixels = images(TRAIN, 11)
    per = TRAIN // 5
    for f in range(5):
        part = slice(f * per, (f + 1) * per)
        with open(os.path.join(folder, "data_batch_%d" % (f + 1)), "wb") as out:
            pickle.dump({"labels": labels[part].tolist(), "data": pixels[part].reshape(per, 3072).numpy()}, out)
    labels, pixels = images(TEST, 12)
    with open(os.path.join(folder, "test_batch"), "wb") as out:
        pickle.dump({"labels": labels.tolist(), "data": pixels.reshape(TEST, 3072).numpy()}, out)
    with open(os.path.join(folder, "batches.meta"), "wb") as out:
        pickle.dump({"label_names": NAMES}, out)


torchvision.datasets.cifar.check_integrity = lambda path, md5=None: os.path.isfile(path)   # the generated set's own MD5s

permutations = []
_randperm = torch.randperm


generators = []   # RandomSampler's fresh generator of each iter(); it draws a second, empty-sliced randperm at the end of a pass


def recorded_randperm(n, *args, **kwargs):
    p = _randperm(n, *args, **kwargs)
    g = kwargs.get("generator")
    if n == TRAIN and not any(g is seen for seen in generators):
        generators.append(g)
        permutations.append(p.tolist())
    return p


torch.randperm = recorded_randperm


def tutorial(seed, root, first_step_only=False):
    """The tutorial's script from its first random draw to its accuracy lines; returns what it printed and measured."""
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    del permutations[:]
    del generators[:]
    torch.manual_seed(seed)                                                     # the one added line

    transform = transforms.Compose(
        [transforms.ToTensor(),
         transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    batch_size = 4
    trainset = torchvision.datasets.CIFAR10(root=root, train=True, download=False, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=batch_size, shuffle=True, num_workers=2)
    testset = torchvision.datasets.CIFAR10(root=root, train=False, download=False, transform=transform)
    testloader = torch.utils.data.DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=2)
    classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

    # get some random training images
    dataiter = iter(trainloader)
    images_, labels = next(dataiter)
    peek = [classes[labels[j]] for j in range(batch_size)]
    del dataiter

    class Net(nn.Module):
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
            x = torch.flatten(x, 1)  # flatten all dimensions except batch
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

    net = Net()
    initial = {k: {"sha256": hashlib.sha256(v.detach().numpy().astype("<f4").tobytes()).hexdigest(),
                   "first": [float(f) for f in v.flatten()[:3]]} for k, v in net.state_dict().items()}

    # first_step_only: the first step's layer outputs, kept by forward hooks, and nothing after that step. A separate pass,
    # because keeping them moves later buffers in memory, and that alone changes PyTorch's own losses from the second step on.
    first_step = {}
    hooks = [getattr(net, name).register_forward_hook(
        lambda m, i, o, name=name: first_step.setdefault(name, o.detach().clone())) for name in ("conv1", "conv2", "fc1")
             ] if first_step_only else []

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

    steps, logged, log = [], [], []
    for epoch in range(EPOCHS):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data
            # zero the parameter gradients
            optimizer.zero_grad()
            # forward + backward + optimize
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            # print statistics
            running_loss += loss.item()
            steps.append(loss.item())                                           # recorded
            if first_step_only:
                return {"loss": loss.item(), **{name + "Sha256": hashlib.sha256(first_step[name].numpy().astype("<f4").tobytes())
                                                 .hexdigest() for name in ("conv1", "conv2")},
                        "fc1": [float(v) for v in first_step["fc1"].flatten()]}
            if i % LOG_EVERY == LOG_EVERY - 1:    # print every LOG_EVERY mini-batches
                log.append(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / LOG_EVERY:.3f}')
                logged.append({"epoch": epoch + 1, "batch": i + 1, "loss": running_loss / LOG_EVERY})
                running_loss = 0.0
    log.append('Finished Training')

    correct = 0
    total = 0
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    # since we're not training, we don't need to calculate the gradients for our outputs
    with torch.no_grad():
        for data in testloader:
            images_, labels = data
            # calculate outputs by running images through the network
            outputs = net(images_)
            # the class with the highest energy is what we choose as prediction
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            for label, prediction in zip(labels, predicted):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    log.append(f'Accuracy of the network on the {total} test images: {100 * correct // total} %')
    return {"seed": seed, "peek": peek,  "initialState": initial, "permutations": list(permutations), "stepLosses": steps,
            "logged": logged, "log": log, "correct": correct, "total": total,
            "perClass": {c: 100 * float(correct_pred[c]) / total_pred[c] for c in classes if total_pred[c] > 0}}


def main():
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        write_python_format(root)
        runs = [tutorial(seed, root) for seed in SEEDS]
        for run in runs:
            run["firstStep"] = tutorial(run["seed"], root, first_step_only=True)
            assert run["firstStep"]["loss"] == run["stepLosses"][0]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "TorchLabs.Tests", "Golden",
                       "cifar10_tutorial.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "train": TRAIN, "test": TEST,
                   "trainDataSeed": 11, "testDataSeed": 12, "logEvery": LOG_EVERY, "epochs": EPOCHS, "threads": 1,
                   "runs": runs}, f)
    for r in runs:
        print(f"seed {r['seed']}: {r['log'][-1]}; last logged loss {r['logged'][-1]['loss']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
