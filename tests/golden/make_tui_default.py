#!/usr/bin/python3
# make_tui_default.py — reference numbers for tests/unit/test_tui.c, computed with numpy from
# datasets/default.npy (independently of qscope): overall min, max, mean, population std,
# then min and max of each row (the per-channel view along axis 0), and the number of values.
# Run: /usr/bin/python3 tests/golden/make_tui_default.py  (writes tui_default.txt beside it)
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
w = np.load(os.path.join(here, "..", "..", "datasets", "default.npy"))
x = w.astype(np.float64)
with open(os.path.join(here, "tui_default.txt"), "w") as f:
    f.write("n %d\n" % w.size)
    f.write("min %.9g\n" % w.min())
    f.write("max %.9g\n" % w.max())
    f.write("mean %.17g\n" % x.mean())
    f.write("std %.17g\n" % x.std())
    f.write("rows %d\n" % w.shape[0])
    for i in range(w.shape[0]):
        f.write("row %d %.9g %.9g\n" % (i, w[i].min(), w[i].max()))
