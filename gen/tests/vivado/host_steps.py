"""The driver's host steps alone (no pynq) against the golden model's: float frames through
Network.pre must give the golden integer frames, integer outputs through Network.post the
golden floats, bit for bit (NaN equal to NaN).

Usage: python3 host_steps.py DRIVER_DIR DATA_DIR
DATA_DIR: x.f32 (N, input_elems), pre.i64, yhw.i64 (N, output_elems), post.f32, meta.json.
"""

import json
import os
import sys

import numpy as np

driver_dir, data = sys.argv[1], sys.argv[2]
sys.path.insert(0, driver_dir)
import driver  # noqa: E402

meta = json.load(open(os.path.join(data, "meta.json")))
n = meta["frames"]
net = driver.Network()
x = np.fromfile(os.path.join(data, "x.f32"), dtype="<f4").reshape(n, -1)
want_pre = np.fromfile(os.path.join(data, "pre.i64"), dtype="<i8").reshape(n, -1)
yhw = np.fromfile(os.path.join(data, "yhw.i64"), dtype="<i8").reshape(n, -1)
want_post = np.fromfile(os.path.join(data, "post.f32"), dtype="<f4").reshape(n, -1)

got = net.pre(net.frames(x))
if not np.array_equal(got, want_pre):
    r, c = np.argwhere(got != want_pre)[0]
    sys.exit("pre: frame %d element %d: driver %d, golden %d (x = %r)" % (r, c, got[r, c], want_pre[r, c], x[r, c]))

y = net.post(yhw)
same = (y.view(np.uint32) == want_post.view(np.uint32)) | (np.isnan(y) & np.isnan(want_post))
if y.dtype != np.float32 or not same.all():
    r, c = np.argwhere(~same)[0]
    sys.exit("post: frame %d output %d: driver %r, golden %r" % (r, c, y[r, c], want_post[r, c]))
print("host steps ok: %s" % meta["what"])
