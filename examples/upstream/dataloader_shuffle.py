# The Python twin of dataloader_shuffle.cs: PyTorch 1.13's answer. Run: /usr/bin/python3 examples/upstream/dataloader_shuffle.py
import torch
from torch.utils.data import DataLoader

torch.manual_seed(1)
loader = DataLoader(list(range(10)), batch_size=4, shuffle=True)
for epoch in range(1, 4):
    print(f"epoch {epoch}: {' '.join(str(i) for i in torch.cat(list(loader)).tolist())}")
