#!/usr/bin/python3
"""The scaling grid: which models and batch sizes benchmarks/grid measures, shared by every side.

make_models.py writes the Kiln declarations from it, torch_grid.py builds the PyTorch mirrors from
it, and run.py walks it. A point is (model, batch, kind) with kind "train" (one optimiser step:
forward, loss, backward, Adam update) or "infer" (eval-mode forward pass with softmax).
"""

MLP_WIDTHS = [32, 128, 512, 1024, 4096]
MLP_DEPTHS = [2, 4, 8]            # hidden Dense+ReLU layers before the 10-way output layer
MLP_BATCHES = [1, 16, 64, 256, 1024]
MLP_INPUT = 784

CNN_CHANNELS = [8, 32, 128]
CNN_INPUTS = [(1, 28, 28), (3, 32, 32)]
CNN_BATCHES = [1, 16, 64, 256]

CLASSES = 10


def mlp_models():
    for depth in MLP_DEPTHS:
        for width in MLP_WIDTHS:
            yield {"family": "mlp", "name": f"Mlp{width}x{depth}", "width": width, "depth": depth,
                   "input": [MLP_INPUT], "batches": MLP_BATCHES}


def cnn_models():
    for (c, h, w) in CNN_INPUTS:
        for ch in CNN_CHANNELS:
            yield {"family": "cnn", "name": f"Cnn{ch}c{c}x{h}", "channels": ch,
                   "input": [c, h, w], "batches": CNN_BATCHES}


def models():
    yield from mlp_models()
    yield from cnn_models()


def flops_per_sample(m):
    """Multiply-adds x 2 of the layers' products, counted as a direct (not Winograd) convolution.

    infer: the forward pass. train: forward + weight gradients + input gradients of every layer but
    the first (neither side computes the gradient of the input data)."""
    layers = []  # (macs, is_first)
    if m["family"] == "mlp":
        fan_in = MLP_INPUT
        for i in range(m["depth"]):
            layers.append(fan_in * m["width"])
            fan_in = m["width"]
        layers.append(fan_in * CLASSES)
    else:
        c, h, w = m["input"]
        ch = m["channels"]
        # Conv ch@3x3 pad 1 -> ReLU -> MaxPool 2 -> Conv 2ch@3x3 pad 1 -> ReLU -> MaxPool 2 -> Dense 10
        layers.append(h * w * ch * c * 9)
        h, w = h // 2, w // 2
        layers.append(h * w * 2 * ch * ch * 9)
        h, w = h // 2, w // 2
        layers.append(2 * ch * h * w * CLASSES)
    forward = 2 * sum(layers)
    backward = 2 * sum(layers) + 2 * sum(layers[1:])
    return {"infer": forward, "train": forward + backward}
