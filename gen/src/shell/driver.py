# SPDX-License-Identifier: Apache-2.0
"""Driver of a ferrite accelerator on a PYNQ board (written by `ferrite build --board`).

    from driver import Accelerator
    acc = Accelerator("ferrite.bit", batch_size=64)
    y = acc.execute(x)

The network's numbers (shapes, stream formats, host-step constants) are read from
network.json beside this file; this file is the same for every network.

The host steps run in numpy float32, one IEEE operation at a time in the golden model's
order (ferrite's golden/host.rs), so the outputs equal `ferrite golden`'s.
"""

import json
import os

import numpy as np

NETWORK_VERSION = 1
_HERE = os.path.dirname(os.path.abspath(__file__))


def _f32(values):
    """JSON numbers (f32 values written as f64) to float32, exactly."""
    return np.array([float(v) for v in values], dtype=np.float64).astype(np.float32)


_LIBM = None


def _libm():
    """The C library's float functions (expf, powf): the ones the golden model calls."""
    global _LIBM
    if _LIBM is None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("m")
        lib = ctypes.CDLL(name) if name else None
        if lib is not None:
            for f, n in (("expf", 1), ("powf", 2)):
                fn = getattr(lib, f)
                fn.restype = ctypes.c_float
                fn.argtypes = [ctypes.c_float] * n
        _LIBM = (lib,)
    return _LIBM[0]


def _expf(x):
    lib = _libm()
    if lib is None:
        return np.exp(x.astype(np.float64)).astype(np.float32)
    out = np.empty_like(x, dtype=np.float32)
    flat, src = out.reshape(-1), x.reshape(-1)
    for i in range(src.size):
        flat[i] = lib.expf(float(src[i]))
    return out


def _powf(a, b):
    a, b = np.broadcast_arrays(a, b)
    lib = _libm()
    if lib is None:
        return np.power(a.astype(np.float64), b.astype(np.float64)).astype(np.float32)
    out = np.empty(a.shape, dtype=np.float32)
    flat, fa, fb = out.reshape(-1), a.reshape(-1), b.reshape(-1)
    for i in range(fa.size):
        flat[i] = lib.powf(float(fa[i]), float(fb[i]))
    return out


def _sign(x):
    """1, -1, or x * 0 (a signed zero, or NaN), as the golden model's rounding uses."""
    return np.where(x > 0, np.float32(1), np.where(x < 0, np.float32(-1), x * np.float32(0)))


def _round(mode, y):
    if mode == "Round":
        return np.rint(y)
    if mode == "Ceil":
        return np.ceil(y)
    if mode == "Floor":
        return np.floor(y)
    if mode == "Up":
        return _sign(y) * np.ceil(np.abs(y))
    if mode == "Down":
        return np.trunc(y)
    if mode == "HalfUp":
        return _sign(y) * np.floor(np.abs(y) + np.float32(0.5))
    if mode == "HalfDown":
        return _sign(y) * np.ceil(np.abs(y) - np.float32(0.5))
    raise ValueError("unknown rounding mode %r" % (mode,))


def _check_values(x, lo, hi, bipolar, what):
    """Raise unless every element of x is an integer in [lo, hi] (not 0 when bipolar)."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(x) | (x != np.trunc(x))
        wide = x.astype(np.float64)
        bad |= (wide < lo) | (wide > hi)
        if bipolar:
            bad |= x == 0
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            "frame %d element %d is %r, not %s" % (row, col, float(x[row, col]), what)
        )


class Network:
    """The host side of the network: host steps and DMA packing, no hardware."""

    def __init__(self, path=None):
        path = path or os.path.join(_HERE, "network.json")
        with open(path) as f:
            net = json.load(f)
        if net.get("format") != "ferrite-driver" or net.get("version") != NETWORK_VERSION:
            raise ValueError("%s is not a ferrite driver file of version %d" % (path, NETWORK_VERSION))
        self.net = net
        self.name = net["name"]
        self.input_shape = tuple(net["input_shape"])
        self.input_elems = net["input_elems"]
        self.output_elems = net["output_elems"]
        self.input = net["input"]
        self.output = net["output"]

    # -- frames ---------------------------------------------------------------------------

    def frames(self, x):
        """x as (N, input_elems): (N, elems), (N, *input_shape) or one frame (elems,)."""
        x = np.asarray(x)
        n = self.input_elems
        if x.ndim >= 2 and int(np.prod(x.shape[1:])) == n:
            return x.reshape(x.shape[0], n)
        if x.ndim == 1 and x.shape[0] == n:
            return x.reshape(1, n)
        raise ValueError(
            "shape %s does not hold frames of %d elements (shape (N, %d) or (N, %s))"
            % (x.shape, n, n, ", ".join(str(d) for d in self.input_shape))
        )

    def _steps(self, steps, x):
        for s in steps:
            x = self._step(s, x)
        return x

    def _step(self, s, x):
        kind = s["step"]
        n = x.shape[1]

        def const(v):
            c = _f32(v)
            if c.size not in (1, n):
                raise ValueError("host step %s does not fit a frame of %d values" % (kind, n))
            return c if c.size == n else c[0]

        with np.errstate(all="ignore"):
            if kind == "Elementwise":
                c = const(s["constant"])
                a, b = (c, x) if s["reversed"] else (x, c)
                op = s["op"]
                if op == "Add":
                    return (a + b).astype(np.float32)
                if op == "Sub":
                    return (a - b).astype(np.float32)
                if op == "Mul":
                    return (a * b).astype(np.float32)
                if op == "Div":
                    return (a / b).astype(np.float32)
                if op == "Pow":
                    return _powf(a, b)
                if op == "Max":
                    return np.maximum(a, b).astype(np.float32)
                raise ValueError("unknown operation %r" % (op,))
            if kind == "Quantize":
                scale, zp = const(s["scale"]), const(s["zero_point"])
                y = x / scale + zp
                if s["bipolar"]:
                    q = np.where(y >= 0, np.float32(1), np.float32(-1))
                else:
                    hi, lo = np.float32(s["hi"]), np.float32(s["lo"])
                    y = np.where(y > hi, hi, y)
                    y = np.where(y < lo, lo, y)
                    q = _round(s["rounding"], y)
                return (q - zp).astype(np.float32)
            if kind == "BipolarQuantize":
                return np.where(x >= 0, np.float32(1), np.float32(-1))
            if kind == "Dequantize":
                return (x * const(s["scale"])).astype(np.float32)
            if kind == "Softmax":
                m = np.fmax.reduce(x, axis=1, initial=-np.inf).astype(np.float32)
                e = _expf((x - m[:, None]).astype(np.float32))
                total = np.cumsum(e, axis=1, dtype=np.float32)[:, -1]
                return (e / total[:, None]).astype(np.float32)
            if kind == "ToChannelsLast":
                c = s["channels"]
                if c > 1 and n % c == 0:
                    return x.reshape(x.shape[0], c, n // c).transpose(0, 2, 1).reshape(x.shape[0], n)
                return x
            if kind == "Gather":
                return x[:, np.asarray(s["index"], dtype=np.int64)]
            if kind == "Expect":
                _check_values(
                    x / np.float32(s["scale"]),
                    s["min"],
                    s["max"],
                    s["bipolar"],
                    "a %s value (the model declares its input %s)" % (s["type"], s["type"]),
                )
                return x
        raise ValueError("unknown host step %r" % (kind,))

    def pre(self, x):
        """Float frames (N, input_elems) -> the hardware's integer frames (int64)."""
        v = self._steps(self.net["pre"], np.asarray(x, dtype=np.float32))
        s = self.input
        _check_values(v, s["min"], s["max"], s["bipolar"], "a %s value" % s["type"])
        return v.astype(np.int64)

    def post(self, y):
        """The hardware's integer outputs (N, output_elems) -> the network's float outputs."""
        return self._steps(self.net["post"], np.asarray(y).astype(np.float32))

    def hardware_frames(self, x):
        """Frames as the hardware takes them: integer arrays as they are (checked), float
        arrays through the host pre-steps."""
        x = self.frames(x)
        if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
            x = x.astype(np.int64)
            s = self.input
            _check_values(x.astype(np.float64), s["min"], s["max"], s["bipolar"], "a %s value" % s["type"])
            return x
        return self.pre(x)

    # -- DMA layout -----------------------------------------------------------------------

    @staticmethod
    def pack(fmt, v):
        """Integer frames (N, lanes * beats) -> DMA bytes (N, frame_bytes): each beat's
        lanes little-endian (lane 0 in the lowest bits), zero-padded to dma_beats beats of
        dma_bytes."""
        v = np.asarray(v, dtype=np.int64)
        n, e, lanes = v.shape[0], fmt["bits"], fmt["lanes"]
        if fmt["bipolar"]:
            codes = (v > 0).astype(np.uint64)
        else:
            codes = (v & ((1 << e) - 1)).astype(np.uint64)
        codes = codes.reshape(n, fmt["beats_per_frame"], lanes)
        bits = ((codes[..., None] >> np.arange(e, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)
        bits = bits.reshape(n, fmt["beats_per_frame"], lanes * e)
        slot = fmt["dma_bytes"] * fmt["dma_beats"] * 8
        bits = np.concatenate(
            [bits, np.zeros((n, fmt["beats_per_frame"], slot - lanes * e), dtype=np.uint8)], axis=2
        )
        return np.packbits(bits, axis=2, bitorder="little").reshape(n, fmt["frame_bytes"])

    @staticmethod
    def unpack(fmt, b):
        """DMA bytes (N, frame_bytes) -> integer frames (N, lanes * beats)."""
        b = np.asarray(b, dtype=np.uint8)
        n, e, lanes = b.shape[0], fmt["bits"], fmt["lanes"]
        beats = fmt["beats_per_frame"]
        bits = np.unpackbits(b.reshape(n, beats, -1), axis=2, bitorder="little")
        bits = bits[:, :, : lanes * e].reshape(n, beats, lanes, e).astype(np.int64)
        codes = (bits << np.arange(e, dtype=np.int64)).sum(axis=3)
        if fmt["bipolar"]:
            v = np.where(codes == 1, 1, -1)
        elif fmt["signed"]:
            v = np.where(codes >= (1 << (e - 1)), codes - (1 << e), codes)
        else:
            v = codes
        return v.reshape(n, beats * lanes).astype(np.int64)


class Accelerator:
    """The accelerator on the board: PYNQ overlay, AXI DMA, and the network's host steps.

    batch_size frames travel in one DMA transfer each way (a last, smaller batch is padded
    with zero frames whose outputs are dropped)."""

    def __init__(self, bitfile="ferrite.bit", batch_size=1, network=None, overlay=None):
        from pynq import Overlay, allocate

        self.network = network if isinstance(network, Network) else Network(network)
        if int(batch_size) < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = int(batch_size)
        net = self.network
        for fmt in (net.input, net.output):
            if fmt["frame_bytes"] * self.batch_size > net.net["max_transfer_bytes"]:
                raise ValueError(
                    "a batch of %d frames is more than one DMA transfer takes (%d bytes); use a smaller batch_size"
                    % (self.batch_size, net.net["max_transfer_bytes"])
                )
        if overlay is None:
            if not os.path.isabs(bitfile) and not os.path.exists(bitfile):
                bitfile = os.path.join(_HERE, bitfile)
            overlay = Overlay(bitfile)
        self.overlay = overlay
        self.dma = getattr(overlay, net.net["overlay"]["dma"])
        self.frames_gpio = getattr(overlay, net.net["overlay"]["frames"])
        self.ibuf = allocate(shape=(self.batch_size, net.input["frame_bytes"]), dtype=np.uint8)
        self.obuf = allocate(shape=(self.batch_size, net.output["frame_bytes"]), dtype=np.uint8)

    def execute_hw(self, frames):
        """Integer frames (N, input_elems) -> the accelerator's integer outputs (N,
        output_elems), batch_size frames a transfer."""
        net = self.network
        frames = np.asarray(frames, dtype=np.int64)
        out = np.empty((frames.shape[0], net.output_elems), dtype=np.int64)
        # the packet length: the adapter ends each S2MM packet after this many frames
        self.frames_gpio.write(0x0, self.batch_size)
        for start in range(0, frames.shape[0], self.batch_size):
            chunk = frames[start : start + self.batch_size]
            k = chunk.shape[0]
            self.ibuf[:] = 0
            self.ibuf[:k] = Network.pack(net.input, chunk)
            self.ibuf.flush()
            self.dma.recvchannel.transfer(self.obuf)
            self.dma.sendchannel.transfer(self.ibuf)
            self.dma.sendchannel.wait()
            self.dma.recvchannel.wait()
            self.obuf.invalidate()
            out[start : start + k] = Network.unpack(net.output, np.array(self.obuf)[:k])
        return out

    def execute(self, x):
        """Float frames (N, *input_shape) or (N, input_elems) -> the network's float32
        outputs (N, output_elems), host steps included; integer arrays are the hardware's
        frames."""
        net = self.network
        return net.post(self.execute_hw(net.hardware_frames(x)))

    def classify(self, x):
        """The top-1 class of each frame: the first label when the network ends in a label
        select (its outputs are class indices, best first), else the index of the largest
        output (the first of equals)."""
        y = self.execute(x)
        if self.network.net["output_is_labels"]:
            return y[:, 0].astype(np.int64)
        return np.argmax(y, axis=1)
