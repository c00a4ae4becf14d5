#!/usr/bin/python3
"""PyTorch float64, single-thread forward (training) + backward timings for the normalizers benchmark.

usage: /usr/bin/python3 bench/torch/normalizers.py KIND:N:C:L:G [...]   (KIND = batch | layer | instance | group)
prints a JSON array of {"kind", "shape", "groups", "medianNs", "minNs"}: the median (and min) over 15 rounds of the mean time of
one `y = m(x); y.backward(dy)` call, each round timed with time.perf_counter over enough calls to last ~20 ms.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
torch.manual_seed(0)


def module(kind, c, l, g):
    if kind == "batch":
        return torch.nn.BatchNorm1d(c)
    if kind == "layer":
        return torch.nn.LayerNorm([c, l])
    if kind == "instance":
        return torch.nn.InstanceNorm1d(c, affine=True)
    if kind == "group":
        return torch.nn.GroupNorm(g, c)
    raise SystemExit(f"unknown kind {kind}")


def time_case(kind, n, c, l, g):
    m = module(kind, c, l, g)
    m.train(True)
    x = (torch.randn(n, c, l) + 1).requires_grad_(True)
    dy = torch.randn(n, c, l)
    params = list(m.parameters())

    def step():
        x.grad = None
        for p in params:
            p.grad = None
        y = m(x)
        y.backward(dy)

    for _ in range(20):
        step()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        if time.perf_counter() - t0 > 0.02:
            break
        reps *= 2
    rounds = []
    for _ in range(15):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        rounds.append((time.perf_counter() - t0) / reps * 1e9)
    rounds.sort()
    return rounds[len(rounds) // 2], rounds[0]


out = []
for arg in sys.argv[1:]:
    kind, n, c, l, g = arg.split(":")
    n, c, l, g = int(n), int(c), int(l), int(g)
    median, best = time_case(kind, n, c, l, g)
    out.append({"kind": kind, "shape": [n, c, l], "groups": g, "medianNs": median, "minNs": best})
print(json.dumps(out))
