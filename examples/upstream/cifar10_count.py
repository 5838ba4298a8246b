# The Python twin of cifar10_count.cs: PyTorch 1.13's answer. Run: /usr/bin/python3 examples/upstream/cifar10_count.py
import hashlib, os, pickle, tempfile
import numpy as np
import torchvision

root = tempfile.mkdtemp()
folder = os.path.join(root, "cifar-10-batches-py")
os.makedirs(folder)
for name, entry in [("test_batch", {"data": np.zeros((12, 3072), np.uint8), "labels": [0] * 12}),
                    ("batches.meta", {"label_names": [str(k) for k in range(10)]})]:
    with open(os.path.join(folder, name), "wb") as f:
        pickle.dump(entry, f)
md5 = lambda name: hashlib.md5(open(os.path.join(folder, name), "rb").read()).hexdigest()

class Twelve(torchvision.datasets.CIFAR10):  # the same reader, with this folder's checksums
    train_list, test_list = [], [["test_batch", md5("test_batch")]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": md5("batches.meta")}

print(f"{len(Twelve(root, train=False))} records")
