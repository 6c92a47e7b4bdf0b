"""Runs an NIR graph exported by spikenas through snnTorch's own NIR importer.

usage: verify_nir.py MODEL.nir IMAGES.u8 COUNT
IMAGES.u8 holds COUNT raw images (uint8, H*W*C each, HWC) as the dataset stores them. Each image is
normalised as the graph's metadata says, presented for the graph's T timesteps, and classified by the
argmax of the mean of the graph's outputs. Prints {"predictions": [...], "versions": {...}} as JSON.
"""
import contextlib
import json
import sys

import nir
import nirtorch
import numpy as np
import snntorch
import torch
from snntorch import utils
from snntorch.import_nir import import_from_nir

path, images_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
graph = nir.read(path)
meta = graph.metadata
timesteps = int(meta["timesteps"])
# snnTorch's importer reads every LIF's time constant in seconds at its fixed step dt = 1e-4 s (beta =
# 1 - dt / tau); the graph's are in steps (dt = 1). Scaling tau by 1e-4 is that change of unit, nothing else.
for node in graph.nodes.values():
    if isinstance(node, nir.LIF):
        node.tau = node.tau * 1e-4
with contextlib.redirect_stdout(sys.stderr):  # the importer prints its progress; stdout is the result
    net = import_from_nir(graph)
net.eval()

channels, height, width = (int(v) for v in graph.nodes["input"].input_type["input"])
pixels = np.fromfile(images_path, dtype=np.uint8, count=count * height * width * channels)
pixels = pixels.reshape(count, height, width, channels)
mean = np.asarray(meta["norm_mean"], dtype=np.float64)
std = np.asarray(meta["norm_std"], dtype=np.float64)
# The same float32 table per channel as spikenas (datasets/prepare.ts): (v / 255 - mean) / std.
tables = ((np.arange(256)[None, :] / 255 - mean[:, None]) / std[:, None]).astype(np.float32)

predictions = []
with torch.no_grad():
    for image in pixels:
        x = np.stack([tables[c][image[:, :, c]] for c in range(channels)])  # C, H, W
        x = torch.from_numpy(x).unsqueeze(0)  # batch of one: snnTorch maps Flatten to torch's as it is
        utils.reset(net)
        state = None
        total = None
        for _ in range(timesteps):
            out, state = net(x, state) if state is not None else net(x)
            total = out if total is None else total + out
        predictions.append(int(torch.argmax(total.reshape(-1)).item()))
versions = {"nir": nir.version, "nirtorch": nirtorch.__version__, "snntorch": snntorch.__version__, "torch": torch.__version__}
print(json.dumps({"predictions": predictions, "versions": versions}))
