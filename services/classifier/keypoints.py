"""Key points: the 3-7 sentences of a long request an agent should read first.

Extractive and pure given an embedder: the points are sentences of the request
itself (already masked by the caller), in its own language, in text order, each
with where it comes from (the body, or an attachment and its page).

How a request's sentences are chosen (``plan`` then ``select``):

1. split every segment (body, then each attachment) into sentences
   (``sentences.py``); only sentences of ``min_sentence_words`` words or more
   can be chosen (salutations and signatures cannot), each text once;
2. a cheap lexical score ranks them: TF-IDF centrality (cosine of the sentence
   to the whole text, IDF over the request's own sentences), words of the
   subject, cue words of what a caseworker acts on (a request, an amount, a
   deadline, a decision), a digit (date, amount), minus courtesy formulas;
3. only the ``candidates`` best are embedded, each by its first ``embed_words``
   words (one embedder call for a whole batch of requests): the embedder is the
   cost, it grows with the tokens read, and a 2,000-word request has over a
   hundred sentences (docs/benchmarks.md, "Key points benchmark"); when every
   candidate becomes a point anyway, nothing is embedded;
4. relevance = that lexical score + closeness, in the embedder's space, to the
   subject and to ``ANCHORS`` (what caseworkers look for, in FR/NL/EN), each
   rescaled to 0..1 within the request; maximal marginal relevance over the
   sentence vectors then picks the points, so that two sentences saying the
   same thing are not both shown.

Tried and dropped on the benchmark (docs/benchmarks.md): centrality over the
sentence vectors (e5's cosines favour the topic sentences, not what must be
acted on) and a bonus for the opening sentences (letters introduce the writer
first). The number of points grows with the length: one per
``words_per_point`` words, between ``min_points`` and ``max_points``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.classifier.sentences import split_sentences, word_count
from shared.events import KEY_POINT_MAX_CHARS, KEY_POINTS_MAX, KeyPoint

Vectors = npt.NDArray[np.float32]
Embed = Callable[[list[str]], Vectors]

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_DIGIT = re.compile(r"\d")
# What a caseworker acts on, FR/NL/EN stems (matched at a word start). Like the
# courtesy formulas below, matched on the lower-cased sentence: re.IGNORECASE on
# these alternations made the lexical pass five times slower.
_CUES = re.compile(
    r"\b(?:demand|sollicit|urgen|délai|avant le|au plus tard|expuls|coupur|factur|dette|"
    r"montant|arriéré|loyer|revenu|décision|recours|refus|rendez|certificat|"
    r"vraag|verzoek|aanvra|dringend|termijn|uiterlijk|vóór|voor \d|uithuiszett|afsluit|"
    r"schuld|bedrag|achterstal|huur|inkomen|beslissing|beroep|weiger|afspraak|attest|"
    r"request|ask|apply|urgent|deadline|by \d|before|evict|cut|debt|amount|arrears|rent|"
    r"income|decision|appeal|refus|appointment|certificate|€|eur\b)"
)
_COURTESY = re.compile(
    r"(?:je vous remercie|nous vous remercions|merci d'avance|veuillez agréer|"
    r"n'hésitez pas|je reste à (?:votre|vos)|dans l'attente|bien à vous|salutations|"
    r"alvast bedankt|bedankt voor|hoogachtend|met vriendelijke groet|aarzel niet|"
    r"ik dank u|in afwachting|thank you|thanks in advance|kind regards|yours sincerely|"
    r"yours faithfully|do not hesitate|don't hesitate|i look forward|we look forward)"
)


# What a caseworker looks for, in the three languages: sentences close to one of
# these in the embedder's space (e5 is multilingual: paraphrases and other wordings
# count too, which the cue words above cannot do) are more relevant.
ANCHORS = (
    "The person asks for financial help, an allowance or an intervention.",
    "La personne demande une aide financière ou une intervention du CPAS.",
    "De persoon vraagt financiële hulp of een tussenkomst van het OCMW.",
    "A debt, arrears or an unpaid invoice of an amount in euros.",
    "Une dette, des arriérés ou une facture impayée d'un montant en euros.",
    "Een schuld, achterstal of onbetaalde factuur van een bedrag in euro.",
    "A deadline: before this date there will be an eviction, a cut-off or a seizure.",
    "Un délai : avant cette date il y aura une expulsion, une coupure ou une saisie.",
    "Een termijn: voor die datum volgt een uithuiszetting, afsluiting of beslag.",
    "A serious health problem, disability or danger for a vulnerable person or a child.",
    "Un grave problème de santé, un handicap ou un danger pour une personne vulnérable "
    "ou un enfant.",
    "Een ernstig gezondheidsprobleem, een handicap of gevaar voor een kwetsbare persoon "
    "of een kind.",
    "The person has no income, no housing or lost their job.",
    "La personne n'a plus de revenu, plus de logement ou a perdu son emploi.",
    "De persoon heeft geen inkomen, geen woning meer of verloor zijn job.",
)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a request's text and where it comes from."""

    text: str
    source: str = "body"  # "body" or an attachment's name
    page: int | None = None


@dataclass(frozen=True)
class Weights:
    """How much each signal counts (chosen on the benchmark, docs/benchmarks.md)."""

    centrality: float = 1.0  # TF-IDF cosine to the whole text
    subject_words: float = 0.15  # share of the subject's words in the sentence
    cue: float = 0.1  # per cue word, at most two
    digit: float = 0.05  # a date, an amount
    courtesy: float = 0.3  # a courtesy formula (subtracted)
    anchors: float = 0.5  # cosine to the closest anchor (what caseworkers look for)
    embedding_subject: float = 0.5  # cosine to the subject's vector


@dataclass(frozen=True)
class Params:
    min_words: int = 150  # shorter requests get no key points
    min_points: int = 3
    max_points: int = 7
    words_per_point: int = 100
    candidates: int = 8  # sentences embedded per request (the cost bound)
    # Words of each candidate the embedder reads: its cost grows with the tokens, and
    # the opening of a sentence (who, what is asked) is what the anchors compare.
    embed_words: int = 14
    min_sentence_words: int = 5
    mmr_lambda: float = 0.75  # relevance vs. novelty
    max_chars: int = 300  # a longer sentence is cut, with an ellipsis
    weights: Weights = Weights()

    def __post_init__(self) -> None:
        if not 1 <= self.min_points <= self.max_points <= KEY_POINTS_MAX:
            raise ValueError(f"need 1 <= min_points <= max_points <= {KEY_POINTS_MAX}")
        if self.candidates < self.max_points:
            raise ValueError("candidates must be at least max_points")
        if self.embed_words < 1:
            raise ValueError("embed_words must be at least 1")
        if not 1 <= self.max_chars <= KEY_POINT_MAX_CHARS:
            raise ValueError(f"max_chars must be within 1..{KEY_POINT_MAX_CHARS}")


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    source: str
    page: int | None


@dataclass(frozen=True)
class Query:
    """What the sentences are compared with in the embedder's space."""

    anchors: Vectors  # one row per anchor phrase
    subject: Vectors | None  # the request's subject, when it has one


@dataclass(frozen=True)
class Plan:
    """The candidates of one request, before embedding (pure, cheap)."""

    subject: str
    sentences: list[Sentence]  # the candidates, in text order
    lexical: list[float]  # their lexical relevance, 0..~1.5
    count: int  # how many points to choose


def point_count(words: int, params: Params) -> int:
    return max(params.min_points, min(params.max_points, round(words / params.words_per_point)))


def plan(subject: str, segments: Sequence[Segment], params: Params) -> Plan | None:
    """The candidates of a request, or None when it is too short for key points."""
    words = word_count(subject) + sum(word_count(s.text) for s in segments)
    if words <= params.min_words:
        return None
    sentences = eligible_sentences(segments, params)
    count = min(point_count(words, params), len(sentences))
    if count == 0:
        return None
    scores = lexical_scores(subject, sentences, params.weights)
    best = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[: params.candidates]
    keep = sorted(best)
    return Plan(subject, [sentences[i] for i in keep], [scores[i] for i in keep], count)


def eligible_sentences(segments: Sequence[Segment], params: Params) -> list[Sentence]:
    """The sentences that can become key points, in text order, each once."""
    out: list[Sentence] = []
    seen: set[str] = set()  # a sentence repeated (quoted, a form's boilerplate) counts once
    for segment in segments:
        for text in split_sentences(segment.text):
            if word_count(text) >= params.min_sentence_words and text.lower() not in seen:
                seen.add(text.lower())
                out.append(Sentence(text, segment.source, segment.page))
    return out


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def lexical_scores(subject: str, sentences: Sequence[Sentence], weights: Weights) -> list[float]:
    """TF-IDF centrality + subject words + cues - courtesy, per sentence."""
    lowered = [s.text.lower() for s in sentences]
    bags = [Counter(_WORD.findall(text)) for text in lowered]
    df = Counter(word for bag in bags for word in bag)
    n = len(bags)
    idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
    centre: Counter[str] = Counter()
    for bag in bags:
        centre.update({w: c * idf[w] for w, c in bag.items()})
    centre_norm = math.sqrt(sum(v * v for v in centre.values())) or 1.0
    title = set(_words(subject))
    scores = []
    w = weights
    for bag, text in zip(bags, lowered, strict=True):
        vec = {word: c * idf[word] for word, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        centrality = sum(v * centre[word] for word, v in vec.items()) / (norm * centre_norm)
        score = w.centrality * centrality + w.subject_words * _share(bag, title)
        score += w.cue * min(2, len(_CUES.findall(text))) + w.digit * bool(_DIGIT.search(text))
        score -= w.courtesy * bool(_COURTESY.search(text))
        scores.append(score)
    return scores


def _share(bag: Counter[str], title: set[str]) -> float:
    return len(title & bag.keys()) / len(title) if title else 0.0


def select(planned: Plan, vectors: Vectors, query: Query, params: Params) -> list[KeyPoint]:
    """MMR over the candidates' unit vectors; the chosen points in text order."""
    w = params.weights
    relevance = _spread(np.asarray(planned.lexical))
    if len(query.anchors):
        relevance += w.anchors * _spread((vectors @ query.anchors.T).max(axis=1))
    if query.subject is not None:
        relevance += w.embedding_subject * _spread(vectors @ query.subject)
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    while len(chosen) < planned.count:
        penalty = similarity[:, chosen].max(axis=1) if chosen else np.zeros(len(vectors))
        mmr = params.mmr_lambda * relevance - (1 - params.mmr_lambda) * penalty
        mmr[chosen] = -np.inf
        chosen.append(int(np.argmax(mmr)))
    return [_point(planned.sentences[i], params.max_chars) for i in sorted(chosen)]


def _spread(scores: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Scores rescaled to 0..1 within the request.

    The embedder's cosines all sit in a narrow band (e5: 0.75-0.9), so raw they
    would hardly move the lexical score; rescaled, each signal counts as weighted.
    """
    low, span = float(scores.min()), float(np.ptp(scores))
    if span < 1e-9:
        return np.zeros(len(scores))
    return (scores - low).astype(np.float64) / span


def _point(sentence: Sentence, max_chars: int) -> KeyPoint:
    text = sentence.text
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return KeyPoint(text=text, source=sentence.source[:255], page=sentence.page)


class KeyPointer:
    """Key points for a batch of requests with one embedder call.

    The anchors are embedded with the first batch that needs them, then kept.
    """

    def __init__(self, embed: Embed, params: Params, anchors: Sequence[str] = ANCHORS) -> None:
        self.embed = embed
        self.params = params
        self.anchor_texts = list(anchors)
        self.anchors: Vectors | None = None

    def extract_many(
        self, requests: Sequence[tuple[str, Sequence[Segment]]]
    ) -> list[list[KeyPoint]]:
        plans = [plan(subject, segments, self.params) for subject, segments in requests]
        texts = [self._texts(p) for p in plans]
        flat = [text for group in texts for text in group]
        if not flat:
            return [self._every_candidate(p) for p in plans]
        new_anchors = self.anchor_texts if self.anchors is None else []
        vectors = self.embed(flat + new_anchors)
        if self.anchors is None:
            self.anchors = vectors[len(flat) :]
        out: list[list[KeyPoint]] = []
        row = 0
        for p, group in zip(plans, texts, strict=True):
            if p is None or not group:
                out.append(self._every_candidate(p))
                continue
            block, row = vectors[row : row + len(group)], row + len(group)
            n = len(p.sentences)
            subject = block[n] if len(group) > n else None
            out.append(select(p, block[:n], Query(self.anchors, subject), self.params))
        return out

    def _texts(self, planned: Plan | None) -> list[str]:
        """What the embedder reads for a request: the start of each candidate and the
        subject; nothing when every candidate becomes a point anyway."""
        if planned is None or len(planned.sentences) <= planned.count:
            return []
        words = self.params.embed_words
        heads = [" ".join(s.text.split()[:words]) for s in planned.sentences]
        return heads + ([planned.subject] if planned.subject.strip() else [])

    def _every_candidate(self, planned: Plan | None) -> list[KeyPoint]:
        if planned is None:
            return []
        return [_point(s, self.params.max_chars) for s in planned.sentences]
