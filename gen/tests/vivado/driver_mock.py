"""Runs a generated OUT/driver/driver.py against a mock `pynq` whose DMA plays the
accelerator: it checks the bytes the driver sends against the Rust side's packing of the
golden model's hardware frames, and answers with the packed golden hardware outputs.

Usage: python3 driver_mock.py DRIVER_DIR DATA_DIR
DATA_DIR: inputs.npy (the float inputs), in.bin / out.bin (DMA bytes of every frame),
y.f32 (golden float outputs), hw.i64 (golden integer input frames), meta.json.
"""

import json
import os
import sys
import types

import numpy as np

driver_dir, data = sys.argv[1], sys.argv[2]
meta = json.load(open(os.path.join(data, "meta.json")))
n, in_fb, out_fb, out_elems = meta["frames"], meta["in_frame_bytes"], meta["out_frame_bytes"], meta["out_elems"]
want_in = np.fromfile(os.path.join(data, "in.bin"), dtype=np.uint8).reshape(n, in_fb)
answer = np.fromfile(os.path.join(data, "out.bin"), dtype=np.uint8).reshape(n, out_fb)
golden = np.fromfile(os.path.join(data, "y.f32"), dtype="<f4").reshape(n, out_elems)
hw = np.fromfile(os.path.join(data, "hw.i64"), dtype="<i8").reshape(n, -1)


class Buffer(np.ndarray):
    def flush(self):
        self.flushed = True

    def invalidate(self):
        pass


def allocate(shape, dtype):
    return np.zeros(shape, dtype=dtype).view(Buffer)


class Accel:
    """The DMA and the GPIO of the overlay, one frame stream position."""

    def __init__(self):
        self.pos = 0
        self.frames = None
        self.obuf = None
        self.sent = 0

    def reset(self):
        self.pos = 0


acc_state = Accel()


class Recv:
    def transfer(self, buf):
        acc_state.obuf = buf

    def wait(self):
        pass


class Send:
    def transfer(self, buf):
        s = acc_state
        assert s.obuf is not None, "the receive transfer must start before the send"
        assert getattr(buf, "flushed", False), "the input buffer was not flushed"
        batch = buf.shape[0]
        assert s.frames == batch, "frames register %r, batch %d" % (s.frames, batch)
        k = min(batch, n - s.pos)
        got = np.asarray(buf)[:k]
        want = want_in[s.pos : s.pos + k]
        if not np.array_equal(got, want):
            row, col = np.argwhere(got != want)[0]
            raise AssertionError(
                "frame %d byte %d: driver sent %d, the Rust packing says %d"
                % (s.pos + row, col, got[row, col], want[row, col])
            )
        assert not np.asarray(buf)[k:].any(), "padding frames are not zero"
        s.obuf[:k] = answer[s.pos : s.pos + k]
        s.obuf[k:] = 0xA5  # outputs of padding frames: must be dropped
        s.pos += k
        s.obuf.flushed = False

    def wait(self):
        pass


class Dma:
    sendchannel = Send()
    recvchannel = Recv()


class Gpio:
    def write(self, offset, value):
        assert offset == 0
        acc_state.frames = value


class Overlay:
    def __init__(self, bitfile):
        assert bitfile.endswith("ferrite.bit"), bitfile
        self.ferrite_dma = Dma()
        self.ferrite_frames = Gpio()


pynq = types.ModuleType("pynq")
pynq.Overlay = Overlay
pynq.allocate = allocate
sys.modules["pynq"] = pynq
sys.path.insert(0, driver_dir)
from driver import Accelerator  # noqa: E402

inputs = os.path.join(data, "inputs.npy")
x = np.load(inputs) if os.path.exists(inputs) else hw
for batch in (1, 7, n + 3):
    acc_state.reset()
    acc = Accelerator("ferrite.bit", batch_size=batch)
    y = acc.execute(x)
    assert acc_state.pos == n, (acc_state.pos, n)
    assert y.dtype == np.float32 and y.shape == golden.shape, (y.dtype, y.shape, golden.shape)
    if not np.array_equal(y.view(np.uint32), golden.view(np.uint32)):
        row, col = np.argwhere(y.view(np.uint32) != golden.view(np.uint32))[0]
        raise AssertionError(
            "batch %d: frame %d output %d is %r, golden %r" % (batch, row, col, y[row, col], golden[row, col])
        )
    # integer frames are the hardware's frames
    acc_state.reset()
    y_hw = acc.execute(hw)
    assert np.array_equal(y_hw.view(np.uint32), golden.view(np.uint32)), "integer frames"
    acc_state.reset()
    top1 = acc.classify(x)
    labels = acc.network.net["output_is_labels"]
    want = golden[:, 0].astype(np.int64) if labels else np.argmax(golden, axis=1)
    assert np.array_equal(top1, want), "top-1"
# the host steps alone, with no hardware
net = acc.network
assert np.array_equal(net.pre(net.frames(x)), hw), "pre"
print("driver ok: %d frames, %d outputs each, name %r" % (n, out_elems, net.name))
