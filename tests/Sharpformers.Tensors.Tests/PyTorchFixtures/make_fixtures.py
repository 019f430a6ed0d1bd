#!/usr/bin/env python3
"""Makes the tiny torch.save files the PyTorch reader tests compare against.

Run with Debian's python3-torch (1.13): `/usr/bin/python3 make_fixtures.py` in this folder.
Values are formulas (arange) so the C# tests can compute what every tensor must hold.
"""
import collections
import torch

torch.manual_seed(0)


def save(obj, name, **kwargs):
    torch.save(obj, name, **kwargs)


# Every element type torch state dicts use: value i at flat index i (bool: i % 2 == 1).
base = torch.arange(6, dtype=torch.float64).reshape(2, 3) - 2.5
dtypes = {
    "f32": (base * 1.25).to(torch.float32),
    "f16": (base * 1.25).to(torch.float16),
    "bf16": (base * 1.25).to(torch.bfloat16),
    "f64": base * 1.25,
    "i64": torch.arange(6, dtype=torch.int64).reshape(2, 3) - 3,
    "i32": torch.arange(6, dtype=torch.int32).reshape(2, 3) - 3,
    "i16": torch.arange(6, dtype=torch.int16).reshape(2, 3) - 3,
    "i8": torch.arange(6, dtype=torch.int8).reshape(2, 3) - 3,
    "u8": torch.arange(6, dtype=torch.uint8).reshape(2, 3) + 250,
    "bool": torch.arange(6).reshape(2, 3) % 2 == 1,
}
save(dtypes, "dtypes.bin")

# Views into one shared storage, as torch.save keeps them: offsets, strides, transposes, ties.
grid = torch.arange(24, dtype=torch.float32).reshape(4, 6)
views = collections.OrderedDict()
views["grid"] = grid
views["transposed"] = grid.t()
views["block"] = grid[1:3, 2:5]
views["row"] = grid[2]
views["column"] = grid[:, 4]
views["expanded"] = torch.arange(3, dtype=torch.float32).expand(2, 3)
views["scalar"] = torch.tensor(3.5)
views["tied_a"] = grid
views["tied_b"] = grid
views["empty"] = torch.zeros(0, 4)
save(views, "views.bin")

# A module's state_dict(): an OrderedDict carrying _metadata (BUILD), plus nn.Parameter values.
linear = torch.nn.Linear(3, 2)
with torch.no_grad():
    linear.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) / 8)
    linear.bias.copy_(torch.tensor([-1.0, 1.0]))
save(linear.state_dict(), "state_dict.bin")
save({"weight": linear.weight, "bias": linear.bias}, "parameters.bin")

# Newer pickle opcodes (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL).
save(dtypes, "protocol4.bin", pickle_protocol=4)

# The pre-1.6 format, which the reader must reject with a clear message.
save({"w": torch.ones(2)}, "legacy.bin", _use_new_zipfile_serialization=False)
