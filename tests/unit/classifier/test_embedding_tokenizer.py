"""The rebuilt SentencePiece charsmap and the e5.c-compatible tokenizer, in memory."""

from __future__ import annotations

from services.classifier.embedding.build.charsmap import build_precompiled_charsmap, lookup
from services.classifier.embedding.build.e5_format import E5Vocab
from services.classifier.embedding.build.e5_tokenizer import build_tokenizer, tokenizer_config

NORM = {
    0x01: "",  # control character: dropped
    0x09: " ",  # tab: space
    0xA0: " ",  # no-break space
    0x2581: " ",  # a literal metaspace in the input is a space
    0xFB01: "fi",  # ligature expands
    0xFF21: "A",  # full-width letter
    0x1D400: "A",  # 4-byte UTF-8 key
    0x3000: " ",
}


def test_charsmap_lookup_returns_every_mapping() -> None:
    charsmap = build_precompiled_charsmap(NORM)
    for cp, out in NORM.items():
        assert lookup(charsmap, chr(cp).encode()) == out
    for unmapped in "aé€😀":
        assert lookup(charsmap, unmapped.encode()) is None


def test_charsmap_is_deterministic() -> None:
    assert build_precompiled_charsmap(NORM) == build_precompiled_charsmap(
        dict(reversed(NORM.items()))
    )


def test_tokenizers_precompiled_normaliser_reads_it() -> None:
    from tokenizers import normalizers

    normaliser = normalizers.Precompiled(build_precompiled_charsmap(NORM))
    assert normaliser.normalize_str("\ufb01n\x01\tＡ𝐀 é") == "fin AA é"


def tiny_vocab() -> E5Vocab:
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", "\u2581fi", "n", "\u2581a", "a", "<mask>"]
    scores = [0.0, 0.0, 0.0, 0.0, -2.0, -1.0, -3.0, -1.5, -4.0, 0.0]
    return E5Vocab(pieces, scores, bos=0, eos=2, pad=1, unk=3)


def test_tokenizer_follows_e5c_pipeline() -> None:
    tok = build_tokenizer(tiny_vocab(), NORM)
    # ligature expanded, tab + spaces collapsed, leading metaspace added, <s> ... </s>
    assert tok.encode("\ufb01n\t  a").tokens == ["<s>", "\u2581fi", "n", "\u2581a", "</s>"]
    # a leading space is not doubled
    assert tok.encode(" a").tokens == ["<s>", "\u2581a", "</s>"]
    # unknown character -> <unk>
    assert tok.encode("a z").ids == [0, 7, 4, 3, 2]


def test_tokenizer_config_uses_generic_fast_class() -> None:
    config = tokenizer_config(tiny_vocab(), 512)
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert config["model_max_length"] == 512
    assert config["pad_token"] == "<pad>"
