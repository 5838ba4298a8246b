"""PyTorch 1.13's data pipeline on generated CIFAR-format bytes: the goldens of `torchlabs conformance data`.

Run with Debian's PyTorch (python3-torch, python3-torchvision):
    /usr/bin/python3 scripts/golden/data_pipeline.py --out tests/TorchLabs.Tests/Golden/data_pipeline.json

Record i of a generated batch holds the bytes (7 i + j) mod 256, j = 0 .. 3071, in CIFAR's order (R, G, B planes).
Every case is a real torchvision or torch.utils.data call; the script asserts what it records.
"""
import argparse, hashlib, json, os, pickle, tempfile

import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader, RandomSampler
from torchvision import transforms

RECORD = 3 * 32 * 32


def record_bytes(i):
    return (7 * i + np.arange(RECORD)) % 256


def cifar_folder(root, count):
    """A cifar-10-batches-py folder whose test_batch holds `count` generated records."""
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder)
    data = np.stack([record_bytes(i) for i in range(count)]).astype(np.uint8)
    entry = {"data": data, "labels": [i % 10 for i in range(count)]}
    path = os.path.join(folder, "test_batch")
    with open(path, "wb") as f:
        pickle.dump(entry, f)
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": [str(k) for k in range(10)]}, f)
    return hashlib.md5(open(path, "rb").read()).hexdigest(), hashlib.md5(
        open(os.path.join(folder, "batches.meta"), "rb").read()).hexdigest()


def generated_cifar(root, count, transform):
    test_md5, meta_md5 = cifar_folder(root, count)

    class Generated(torchvision.datasets.CIFAR10):
        train_list = []
        test_list = [["test_batch", test_md5]]
        meta = {"filename": "batches.meta", "key": "label_names", "md5": meta_md5}

    return Generated(root, train=False, transform=transform, download=False)


def f32(values):
    return [float(v) for v in np.asarray(values, dtype=np.float32).reshape(-1)]


def pipeline_cases():
    normalize = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    with tempfile.TemporaryDirectory() as root:
        to_tensor = generated_cifar(os.path.join(root, "a"), 12, transforms.ToTensor())
        both = generated_cifar(os.path.join(root, "b"), 12, transforms.Compose([transforms.ToTensor(), normalize]))
        # The transforms act on each byte alone: one value per byte value, checked on every element of every record.
        table, normal = {}, {}
        for i in range(len(to_tensor)):
            b = record_bytes(i)
            x, y = to_tensor[i][0].reshape(-1).numpy(), both[i][0].reshape(-1).numpy()
            assert to_tensor[i][0].shape == (3, 32, 32) and to_tensor[i][1] == i % 10
            for j in range(RECORD):
                assert table.setdefault(int(b[j]), float(x[j])) == float(x[j])
                assert normal.setdefault(int(b[j]), float(y[j])) == float(y[j])
        assert len(table) == 256
        one = normalize(to_tensor[0][0])  # Normalize on one [3, 32, 32] image
        return {
            "records": len(to_tensor),
            "toTensor": [table[b] for b in range(256)],
            "normalize": [normal[b] for b in range(256)],
            "normalizeOneImage": {"shape": list(one.shape), "first": f32(one.reshape(-1)[:8])},
        }


def loader_orders(n, batch, seed, epochs):
    torch.manual_seed(seed)
    loader = DataLoader(list(range(n)), batch_size=batch, shuffle=True)
    return [torch.cat(list(loader)).tolist() for _ in range(epochs)]


def sampler_orders(n, seed, epochs):
    sampler = RandomSampler(list(range(n)), generator=torch.Generator().manual_seed(seed))
    return [list(sampler) for _ in range(epochs)]


def drop_last(n, batch):
    return {str(d).lower(): [len(b) for b in DataLoader(list(range(n)), batch_size=batch, drop_last=d)]
            for d in (False, True)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cifar": pipeline_cases(),
        "loader": [{"n": n, "batch": b, "seed": s, "orders": loader_orders(n, b, s, 3)}
                   for n, b, s in [(10, 4, 1), (50, 4, 0), (1000, 4, 42)]],
        "sampler": [{"n": n, "seed": s, "orders": sampler_orders(n, s, 3)} for n, s in [(10, 1), (1000, 42)]],
        "dropLast": [{"n": n, "batch": b, "sizes": drop_last(n, b)} for n, b in [(10, 4), (12, 4), (3, 4)]],
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
