#!/usr/bin/env python3
"""An independent safetensors reader, written from the format's description
with the Python standard library only (json, struct, array), to check the files
repr writes.

    python3 read_safetensors.py FILE

prints one JSON object: {"metadata": {...}, "tensors": {name: {"dtype", "shape",
"sum", "values"}}}. Floats that JSON cannot hold are written as the strings
"NaN", "Infinity" and "-Infinity"; 64-bit integers as decimal strings. "sum" is
math.fsum of the finite values (null when there are none, for integer types the
exact sum as a string). A malformed file is reported on stderr with exit status 1.
"""
import json
import math
import struct
import sys
from array import array

# dtype -> (struct format of one element, element size)
FORMATS = {
    "BOOL": ("B", 1), "U8": ("B", 1), "I8": ("b", 1),
    "I16": ("h", 2), "U16": ("H", 2), "F16": ("e", 2), "BF16": ("H", 2),
    "I32": ("i", 4), "U32": ("I", 4), "F32": ("f", 4),
    "I64": ("q", 8), "U64": ("Q", 8), "F64": ("d", 8),
}
FLOATS = {"F16", "BF16", "F32", "F64"}


def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(1)


def read(path):
    with open(path, "rb") as file:
        blob = file.read()
    if len(blob) < 8:
        fail("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        fail("header length past the end")
    if (8 + n) % 8 != 0:
        fail("header not padded to a multiple of 8")
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n :]
    spans = []
    tensors = {}
    for name, entry in header.items():
        fmt, size = FORMATS[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = math.prod(entry["shape"])
        if end - begin != count * size or end > len(data):
            fail("bad offsets for " + name)
        spans.append((begin, end))
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            # bfloat16 is the top half of a float32.
            bits = struct.unpack("<%dH" % count, raw)
            values = [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in bits]
        elif entry["dtype"] == "F16":
            values = list(struct.unpack("<%de" % count, raw))
        else:
            items = array(fmt)
            if items.itemsize == size:
                items.frombytes(raw)
                if sys.byteorder == "big":
                    items.byteswap()
                values = items.tolist()
            else:  # a platform whose C types have other sizes
                values = list(struct.unpack("<%d%s" % (count, fmt), raw))
        tensors[name] = (entry["dtype"], entry["shape"], values)
    covered = 0
    for begin, end in sorted(spans):
        if begin != covered:
            fail("tensors not contiguous at byte %d" % begin)
        covered = end
    if covered != len(data):
        fail("trailing bytes")
    return metadata, tensors


def encode_value(dtype, value):
    if dtype in FLOATS:
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if dtype in ("I64", "U64"):
        return str(value)
    return value


SUM_SCALE = 2.0**-16


def main():
    metadata, tensors = read(sys.argv[1])
    out = {}
    for name, (dtype, shape, values) in tensors.items():
        if dtype in FLOATS:
            # A checksum of the finite values, each scaled by 2**-16 (exact, but for subnormals, which the
            # test scales alike) so that a sum of values near the largest float cannot overflow.
            finite = [v * SUM_SCALE for v in values if math.isfinite(v)]
            total = math.fsum(finite) if finite else None
        else:
            total = str(sum(values))
        out[name] = {
            "dtype": dtype,
            "shape": shape,
            "sum": total,
            "values": [encode_value(dtype, v) for v in values],
        }
    json.dump({"metadata": metadata, "tensors": out}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
