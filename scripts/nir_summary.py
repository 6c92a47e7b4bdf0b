"""Reads an NIR file with PyPI's nir (nir.read, with its type checks) and prints its nodes and edges as JSON."""
import json
import sys

import nir
import numpy as np


def shape_of(value):
    return None if value is None else [int(v) for v in np.asarray(value).reshape(-1)]


graph = nir.read(sys.argv[1])
nodes = {}
for name, node in graph.nodes.items():
    arrays = {
        key: list(np.asarray(value).shape)
        for key, value in vars(node).items()
        if isinstance(value, np.ndarray) and key not in ("input_type", "output_type")
    }
    nodes[name] = {
        "type": type(node).__name__,
        "input": shape_of(next(iter(node.input_type.values()))),
        "output": shape_of(next(iter(node.output_type.values()))),
        "arrays": arrays,
    }
print(json.dumps({"version": nir.version, "nodes": nodes, "edges": [list(e) for e in graph.edges], "metadata": sorted(graph.metadata)}))
