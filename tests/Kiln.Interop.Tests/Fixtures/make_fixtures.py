#!/usr/bin/python3
"""Makes the PyTorch fixtures of Kiln.Interop.Tests (and the Transfer sample's PyTorch-trained digits body).

Needs PyTorch and numpy (Debian: apt-get install python3-torch python3-numpy); the outputs are committed, so the .NET
tests run without them. Run from anywhere:

    /usr/bin/python3 tests/Kiln.Interop.Tests/Fixtures/make_fixtures.py           # regenerate every fixture
    /usr/bin/python3 tests/Kiln.Interop.Tests/Fixtures/make_fixtures.py check DIR  # load Kiln-saved state_dicts (DIR/<name>.safetensors) strictly

For each model NAME it writes NAME.safetensors (the state_dict, PyTorch names and layouts) and NAME.io.safetensors
(an input batch "input" and PyTorch's eval-mode outputs "output": softmax probabilities, as Kiln's Predict returns).
The models mirror the Kiln declarations in tests/Kiln.Interop.Tests/Models.cs layer for layer.
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
NUMPY = {"F32": np.float32, "I64": np.int64, "F64": np.float64}


def save_safetensors(path, tensors, metadata=None):
    """safetensors without the safetensors package: 8-byte little-endian header length, JSON header padded with spaces, data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, value in tensors.items():
        array = np.array(value.detach().cpu().numpy() if torch.is_tensor(value) else value, order="C")  # keeps 0-d shapes
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=NUMPY[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def mlp():
    """Kiln: Dense(16), BatchNorm, ReLU, Dropout(0.2), Dense(3), SoftmaxCrossEntropy."""
    return nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))


def cnn():
    """Kiln: Conv2D(4, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2), Conv2D(6, 3, Padding = 1), PReLU, Flatten, Dense(10), ReLU, Dense(3)."""
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.PReLU(6), nn.Flatten(),  # flattens (C, H, W); Kiln permutes to its (H, W, C)
        nn.Linear(96, 10), nn.ReLU(), nn.Linear(10, 3))


class ResNet(nn.Module):
    """Kiln's TorchResNet with its own attribute names (loaded through an explicit map)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(4)
        self.down = nn.Conv2d(4, 8, 2, stride=2, bias=False)
        self.down_bn = nn.BatchNorm2d(8)
        self.down2 = nn.Conv2d(8, 8, 3, padding=1)
        self.shortcut = nn.Conv2d(4, 8, 1, stride=2, bias=False)  # Kiln: residual0.projection
        self.body1 = nn.Conv2d(8, 8, 3, padding=1)
        self.body2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.relu(self.stem_bn(self.stem(x)))
        x = torch.relu(self.shortcut(x) + self.down2(torch.relu(self.down_bn(self.down(x)))))
        # Kiln's Residual(Survival = 0.5) at test: x + 0.5·F(x) (the fixture trains with the same expectation).
        x = torch.relu(x + 0.5 * self.body2(torch.relu(self.body1(x))))
        return self.fc(x.mean(dim=(2, 3)))


RESNET_MAP = {"conv0": "stem", "bn0": "stem_bn", "conv1": "down", "bn1": "down_bn", "conv2": "down2",
              "residual0": "shortcut", "conv3": "body1", "conv4": "body2", "dense0": "fc"}

def small_conv():
    """docs/interop.md's SmallConv: Conv2D(4, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2), Flatten, Dense(10)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))


MODELS = {"mlp": (mlp, (12,)), "cnn": (cnn, (2, 8, 8)), "resnet": (ResNet, (3, 8, 8)), "smallconv": (small_conv, (1, 8, 8))}


def train(model, shape, steps=30, batch=16, seed=0):
    """A few Adam steps on random data in train mode, so weights and BatchNorm running statistics move off their initial values."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        x = torch.randn((batch,) + shape, generator=g)
        y = torch.randint(0, 3, (batch,), generator=g)  # the first 3 classes (the models have 3 or more outputs)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()


def make_models():
    torch.manual_seed(1234)
    for name, (factory, shape) in MODELS.items():
        model = factory()
        train(model, shape)
        x = torch.randn((5,) + shape, generator=torch.Generator().manual_seed(99))
        with torch.no_grad():
            probabilities = torch.softmax(model(x), dim=1)
        save_safetensors(os.path.join(HERE, name + ".safetensors"), model.state_dict(), {"format": "pt"})
        save_safetensors(os.path.join(HERE, name + ".io.safetensors"),
                         {"input": x.reshape(5, -1), "output": probabilities})
        print(f"{name}: {sum(p.numel() for p in model.state_dict().values())} values")


def digits_source():
    """The 8×8 digits (data/digits.csv.gz) of classes 0–4, standardised per pixel (σ = 1 where a pixel is constant)."""
    with gzip.open(os.path.join(REPO, "data", "digits.csv.gz"), "rt") as f:
        rows = np.array([[float(v) for v in line.split(",")] for line in f if line.strip()], dtype=np.float32)
    x, y = rows[:, :64], rows[:, 64].astype(np.int64)
    keep = y < 5
    x, y = x[keep], y[keep]
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-6] = 1
    return torch.from_numpy((x - mean) / std), torch.from_numpy(y)


def make_digits_pretrain():
    """The Transfer sample's body pre-trained in PyTorch: Kiln's DigitsPretrainNet (features, hidden, pretrain_head) as an nn.Sequential."""
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 5))
    x, y = digits_source()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(3)
    for _ in range(15):
        order = torch.randperm(len(x), generator=g)
        for start in range(0, len(x), 64):
            idx = order[start:start + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    save_safetensors(os.path.join(HERE, "digits_pretrain.safetensors"), model.state_dict(), {"format": "pt"})
    print(f"digits_pretrain: training accuracy {accuracy:.4f} on digits 0-4")


def check(directory):
    """Loads Kiln-saved state_dicts strictly into the PyTorch models and compares with the fixture outputs."""
    worst = 0.0
    for name, (factory, shape) in MODELS.items():
        model = factory()
        model.load_state_dict(load_safetensors(os.path.join(directory, name + ".safetensors")), strict=True)
        model.eval()
        io = load_safetensors(os.path.join(HERE, name + ".io.safetensors"))
        with torch.no_grad():
            out = torch.softmax(model(io["input"].reshape((-1,) + shape)), dim=1)
        diff = (out - io["output"]).abs().max().item()
        worst = max(worst, diff)
        print(f"{name}: Kiln-saved state_dict loads strictly; max |output − fixture| = {diff:.3g}")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    make_models()
    make_digits_pretrain()
