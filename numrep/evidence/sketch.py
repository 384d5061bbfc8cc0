"""HyperLogLog sketches of distinct callees: the public, mergeable contract.

Operators that send hourly aggregates instead of raw records count distinct
callees with this sketch, so that counts merge across hours and operators
without being inflated (one callee reached in three hours is one callee).
The contract is pinned in ``protos/numrep/v1/callrecords.proto``:

* precision 12 (4,096 registers, ~1.6 % standard error);
* ``h`` = the first 8 bytes, big-endian, of SHA-256 over the UTF-8
  normalised callee (``tel:+8613800138000``) — a public hash, so any operator
  builds sketches that merge with numrep's own;
* register = the top 12 bits of ``h``; value = leading zeros of the other
  52 bits + 1 (at most 53); a register keeps the maximum;
* encoding: dense ``0x01`` + 4,096 register bytes, or sparse ``0x02`` +
  (uint16 big-endian index, uint8 value) per non-zero register, ascending.

A sketch reveals little about its callees (a register and a rank are ~16 bits
of a public hash of each), and numrep stores callees themselves only as
keyed hashes.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Iterable

from numrep.errors import ValidationError

P = 12
M = 1 << P
_REST_BITS = 64 - P
_DENSE, _SPARSE = 0x01, 0x02
_SPARSE_BYTE = bytes((_SPARSE,))
_ALPHA = 0.7213 / (1 + 1.079 / M)
_NONZERO = re.compile(b"[^\x00]")
_INVERSE_POWERS = tuple(2.0**-v for v in range(64))


def public_hash(normalised: str) -> int:
    """The sketch's 64-bit hash of a normalised subject."""
    return int.from_bytes(hashlib.sha256(normalised.encode("utf-8")).digest()[:8], "big")


def position(h: int) -> tuple[int, int]:
    """(register, value) for a 64-bit hash."""
    rest = h & ((1 << _REST_BITS) - 1)
    return h >> _REST_BITS, _REST_BITS - rest.bit_length() + 1


class HyperLogLog:
    """A precision-12 HyperLogLog; ``add`` takes normalised subjects."""

    __slots__ = ("registers",)

    def __init__(self, registers: bytearray | None = None) -> None:
        self.registers = registers if registers is not None else bytearray(M)

    @classmethod
    def of(cls, items: Iterable[str]) -> HyperLogLog:
        sketch = cls()
        for item in items:
            sketch.add(item)
        return sketch

    def add(self, normalised: str) -> None:
        self.add_hash(public_hash(normalised))

    def add_hash(self, h: int) -> None:
        idx, value = position(h)
        if value > self.registers[idx]:
            self.registers[idx] = value

    def merge(self, other: HyperLogLog) -> HyperLogLog:
        """Fold ``other`` into this sketch (register-wise maximum); returns self."""
        self.registers = bytearray(map(max, self.registers, other.registers))
        return self

    def merge_bytes(self, data: bytes) -> HyperLogLog:
        """Fold an encoded sketch in; a sparse one touches only its own registers (hourly sketches mostly are)."""
        if not data:
            return self
        if data[:1] == bytes([_SPARSE]) and len(data) % 3 == 1:
            regs = self.registers
            body = memoryview(data)[1:]
            for k in range(0, len(body), 3):
                idx, value = (body[k] << 8) | body[k + 1], body[k + 2]
                if idx >= M or not 0 < value <= _REST_BITS + 1:
                    raise ValidationError("sketch: sparse entries must have indexes below 4096 and values 1 to 53")
                if value > regs[idx]:
                    regs[idx] = value
            return self
        return self.merge(HyperLogLog.from_bytes(data))

    def estimate(self) -> float:
        """Distinct items added, estimated (linear counting while registers are empty)."""
        regs = self.registers
        zeros = regs.count(0)
        if zeros == M:
            return 0.0
        raw = _ALPHA * M * M / sum(regs.count(v) * _INVERSE_POWERS[v] for v in range(_REST_BITS + 2))
        if raw <= 2.5 * M and zeros:
            return M * math.log(M / zeros)
        return raw

    def __len__(self) -> int:
        return int(round(self.estimate()))

    def is_empty(self) -> bool:
        return not any(self.registers)

    def to_bytes(self) -> bytes:
        """The smaller of the sparse and dense encodings."""
        regs = self.registers
        if 3 * (M - regs.count(0)) < M:  # found by a C-side scan: an hour's sketch has few registers set
            out = bytearray((_SPARSE,))
            for m in _NONZERO.finditer(regs):
                i = m.start()
                out += bytes((i >> 8, i & 0xFF, regs[i]))
            return bytes(out)
        return bytes([_DENSE]) + bytes(regs)

    @classmethod
    def from_bytes(cls, data: bytes) -> HyperLogLog:
        """Decode either encoding; an empty byte string is an empty sketch. Raises ValidationError."""
        if not data:
            return cls()
        kind, body = data[0], data[1:]
        if kind == _DENSE:
            if len(body) != M:
                raise ValidationError(f"sketch: a dense sketch has {M} registers, got {len(body)}")
            if max(body) > _REST_BITS + 1:
                raise ValidationError(f"sketch: register values are at most {_REST_BITS + 1}")
            return cls(bytearray(body))
        if kind == _SPARSE:
            if len(body) % 3:
                raise ValidationError("sketch: a sparse sketch is a list of 3-byte (index, value) entries")
            regs = bytearray(M)
            last = -1
            for idx, value in struct.iter_unpack(">HB", body):
                if idx >= M or idx <= last:
                    raise ValidationError("sketch: sparse indexes must be ascending and below 4096")
                if not 0 < value <= _REST_BITS + 1:
                    raise ValidationError(f"sketch: register values are 1 to {_REST_BITS + 1}")
                regs[idx] = value
                last = idx
            return cls(regs)
        raise ValidationError(f"sketch: unknown encoding byte 0x{kind:02x} (0x01 dense, 0x02 sparse)")


def encode_registers(regs: dict[int, int]) -> bytes:
    """The smaller encoding of a sketch given as {register: value} (few registers: no 4,096-byte array)."""
    if 3 * len(regs) < M:
        out = bytearray((_SPARSE,))
        for i in sorted(regs):
            out += bytes((i >> 8, i & 0xFF, regs[i]))
        return bytes(out)
    dense = bytearray(M)
    for i, v in regs.items():
        dense[i] = v
    return bytes([_DENSE]) + bytes(dense)


def merge_encoded(a: bytes, b: bytes) -> bytes:
    """Two encoded sketches (stored ones: validated on the way in) as one, in the smaller encoding."""
    if a[:1] in (b"", _SPARSE_BYTE) and b[:1] in (b"", _SPARSE_BYTE):
        regs: dict[int, int] = {}
        for data in (a, b):
            for idx, value in struct.iter_unpack(">HB", data[1:]):
                if value > regs.get(idx, 0):
                    regs[idx] = value
        return encode_registers(regs)
    return HyperLogLog.from_bytes(a).merge_bytes(b).to_bytes()


def callee_prefix(normalised: str) -> str:
    """The callee without its last digit, its 10-number block: many callees per block is sequential dialling.

    Ten-number blocks keep the signal where numbers are densely assigned: a
    caller reaching random subscribers rarely reaches two in one block, one
    working through consecutive numbers reaches up to ten.
    """
    return normalised[:-1]
