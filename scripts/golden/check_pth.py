#!/usr/bin/python3
"""The other direction of the interop check, run by the tests: loads a cifar_net.pth written by TorchLabs into the tutorial's
Net with net.load_state_dict(torch.load(PATH)), as the tutorial does, and prints the logits of the float32 [N, 3, 32, 32]
images in INPUTS (raw little-endian) as JSON; with --data DIR it also evaluates DIR/cifar-10-batches-bin/test_batch.bin and
prints the tutorial's accuracy (correct, total).
Usage: /usr/bin/python3 scripts/golden/check_pth.py PTH INPUTS [--data DIR]
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cifar_net import Net, normalize  # noqa: E402

torch.set_num_threads(1)
net = Net()
net.load_state_dict(torch.load(sys.argv[1]))
net.eval()
x = torch.from_numpy(np.fromfile(sys.argv[2], dtype="<f4").reshape(-1, 3, 32, 32))
out = {"logits": net(x).detach().double().tolist()}
if "--data" in sys.argv:
    raw = np.fromfile(os.path.join(sys.argv[sys.argv.index("--data") + 1], "cifar-10-batches-bin", "test_batch.bin"), dtype=np.uint8).reshape(-1, 3073)
    labels, images = torch.from_numpy(raw[:, 0].astype(np.int64)), normalize(raw[:, 1:])
    with torch.no_grad():
        predicted = net(images).argmax(1)
    out["correct"], out["total"] = int((predicted == labels).sum()), len(labels)
print(json.dumps(out))
