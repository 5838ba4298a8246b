#!/usr/bin/python3
"""Writes a generated CIFAR-10 set in both of the real formats, with the same images in each:
DIR/cifar-10-batches-bin (what torchlabs reads) and DIR/cifar-10-batches-py (what torchvision reads).
Each class is a colour and stripe pattern plus seeded noise (learnable, like tests/…/SyntheticCifar.cs).
Usage: make_cifar.py DIR [TRAIN_IMAGES (50000)] [TEST_IMAGES (10000)] [SEED (1)]
"""
import os
import pickle
import sys

import numpy as np

PALETTE = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200], [200, 200, 40], [200, 40, 200],
                    [40, 200, 200], [120, 120, 120], [200, 120, 40], [40, 120, 200], [120, 40, 120]], dtype=np.int32)
NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def images(n, rng):
    labels = rng.integers(0, 10, n)
    x = np.arange(32)
    pix = np.empty((n, 3, 32, 32), dtype=np.uint8)
    for c in range(10):
        idx = np.where(labels == c)[0]
        coord = x[None, :] if c % 2 == 0 else x[:, None]
        stripe = np.where((coord // (2 + c % 3)) % 2 == 0, 40, 0) * np.ones((32, 32), dtype=np.int32)
        base = PALETTE[c][:, None, None] + stripe[None, :, :]
        noise = rng.integers(-25, 26, (len(idx), 3, 32, 32))
        pix[idx] = np.clip(base[None] + noise, 0, 255).astype(np.uint8)
    return labels.astype(np.uint8), pix.reshape(n, 3072)


def main():
    root = sys.argv[1]
    train = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    test = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rng = np.random.default_rng(seed)
    binary, python = os.path.join(root, "cifar-10-batches-bin"), os.path.join(root, "cifar-10-batches-py")
    os.makedirs(binary, exist_ok=True)
    os.makedirs(python, exist_ok=True)
    per = [train // 5 + (1 if i < train % 5 else 0) for i in range(5)]
    parts = [("data_batch_%d" % (i + 1), n) for i, n in enumerate(per)] + [("test_batch", test)]
    for name, n in parts:
        labels, pix = images(n, rng)
        with open(os.path.join(binary, name + ".bin"), "wb") as f:
            f.write(np.concatenate([labels[:, None], pix], axis=1).tobytes())
        with open(os.path.join(python, name), "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels.tolist(), "data": pix,
                         "filenames": [f"{name}_{i}.png" for i in range(n)]}, f)
    with open(os.path.join(binary, "batches.meta.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n")
    with open(os.path.join(python, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": NAMES, "num_cases_per_batch": per[0], "num_vis": 3072}, f)
    print(f"wrote {train} training and {test} test images to {binary} and {python}", file=sys.stderr)


if __name__ == "__main__":
    main()
