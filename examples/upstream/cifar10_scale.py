# The Python twin of cifar10_scale.cs: PyTorch 1.13's answer. Run: /usr/bin/python3 examples/upstream/cifar10_scale.py
import numpy as np
from torchvision import transforms

img = (np.arange(3072) % 256).astype(np.uint8).reshape(3, 32, 32).transpose(1, 2, 0)  # HWC, as CIFAR10 gives it
x = transforms.ToTensor()(img).reshape(-1)
print(f"byte 1 → {x[1].item():.9g}, byte 255 → {x[255].item():.9g}")
