# The Python twin of normalize_one_image.cs: PyTorch 1.13's answer. Run: /usr/bin/python3 examples/upstream/normalize_one_image.py
import torch
from torchvision import transforms

normalize = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
y = normalize(torch.ones(3, 32, 32))  # one image, as a dataset item is
print(f"shape {list(y.shape)}, first {y.reshape(-1)[0].item()}")
