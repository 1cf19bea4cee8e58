#!/usr/bin/python3
"""PyTorch peer for the Kiln CNN benchmark: the harness of torch_mlp.py with this model.

    input 1×28×28 -> Conv2d 16@5×5 pad 2 -> BatchNorm2d -> ReLU -> MaxPool 2
                  -> Conv2d 32@5×5 pad 2 -> BatchNorm2d -> ReLU -> MaxPool 2
                  -> Flatten (32·7·7 = 1568) -> Linear 128 -> ReLU -> Dropout(0.3) -> Linear 10
    softmax cross-entropy (mean over the batch), Adam lr 1e-3 at both batch sizes

Same JSON keys and methodology as torch_mlp.py (train_b64_samples_per_s, train_b256_samples_per_s,
infer_b1_median_us, infer_b256_median_us; see its docstring). Equivalent to
``torch_mlp.py --model cnn``; every torch_mlp.py option applies (--threads, --data, --quick,
--profile, ...).

Initialisation follows Kiln's Init.Auto: He/Kaiming normal (fan-in) on the layers followed by
ReLU (both convolutions and the hidden Linear), Glorot uniform on the output layer, zero biases.
With Debian's python3-torch the convolutions run on oneDNN (MKL-DNN) when
torch.backends.mkldnn.is_available(), recorded as machine.mkldnn_available in the JSON; the two
Linear layers use the BLAS as in the MLP benchmark.

One training sample costs about 17.5 MFLOP counted as benchmarks/README.md ("Efficiency") defines it: direct-
convolution and dense multiply-adds, 2 FLOP each; forward 6.05 (conv1 0.63, conv2 5.02, dense 0.40), weight
gradients as much again, input gradients of every layer but conv1 (5.42).
"""

import torch.nn as nn

import torch_mlp

CHANNELS1, CHANNELS2, KERNEL, PAD, HIDDEN, CLASSES = 16, 32, 5, 2, 128, 10
FLAT = CHANNELS2 * 7 * 7


def build_model():
    model = nn.Sequential(
        nn.Conv2d(1, CHANNELS1, KERNEL, padding=PAD),
        nn.BatchNorm2d(CHANNELS1, eps=1e-5, momentum=0.1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(CHANNELS1, CHANNELS2, KERNEL, padding=PAD),
        nn.BatchNorm2d(CHANNELS2, eps=1e-5, momentum=0.1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(FLAT, HIDDEN),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(HIDDEN, CLASSES),
    )
    for i in (0, 4, 9):
        nn.init.kaiming_normal_(model[i].weight, mode="fan_in", nonlinearity="relu")
    nn.init.xavier_uniform_(model[12].weight)
    for i in (0, 4, 9, 12):
        nn.init.zeros_(model[i].bias)
    return model


CNN = torch_mlp.ModelSpec(
    "cnn",
    "1x28x28-Conv16@5x5p2(BN,ReLU)-MaxPool2-Conv32@5x5p2(BN,ReLU)-MaxPool2-128(ReLU,Dropout0.3)-10, softmax CE, Adam",
    build_model, (1, 28, 28), CLASSES, {64: 1e-3, 256: 1e-3})


if __name__ == "__main__":
    torch_mlp.main(default_model="cnn")
