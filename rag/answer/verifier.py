"""Each sentence of an answer checked against the sources it cites.

A sentence is *supported* by a source when every number and name in it occurs in that source,
most of its key terms do, and its meaning is close to one of the source's sentences (cosine
of their embeddings). A sentence without [n] that a source supports gets that [n]; one whose
cited source does not hold it but another does is cited to that one; a sentence no source
supports is marked, with the reason. Sentences that state nothing ("Here is what the notes
say:") are left alone. Thresholds are chosen by measurement on ``tests/data/labels/
verifier_sentences.jsonl`` (``benchmarks/bench_grounding.py verifier``; ``benchmarks/README.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.core import (
    HEADING,
    NOT_IN_NOTES,
    SUPPORTED,
    Claim,
    Passage,
    Sentence,
    citations,
    cite,
    is_refusal,
    numbers,
    search_terms,
    split_sentences,
    strip_citations,
)

#: A sentence's meaning must be at least this close (cosine) to a sentence of its source.
MIN_SIMILARITY = 0.45
#: Share of a sentence's key terms that must occur in its source.
MIN_TERM_SHARE = 0.4
#: Its numbers must occur in one of the sentences of the source closest to it: this many closest
#: in meaning and this many sharing most of its terms (a whole document holds many numbers; the
#: sentence that says the same thing holds the right one).
EVIDENCE_SENTENCES = 3
#: A sentence with fewer key terms than this and no number states nothing to check.
MIN_CLAIM_TERMS = 2

# A name: a capitalised word inside a sentence, an acronym, a word mixing case or digits.
_WORD = re.compile(r"[A-Za-z][\w\-./+]*")

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Verdict:
    supported: bool
    reason: str = ""


def names(text: str) -> set[str]:
    """Proper names, acronyms and identifiers in a sentence (lower-cased), its first word only
    when it can't be an ordinary capitalised word (GPT-4, QLoRA, HumanEval)."""
    found = set()
    for i, match in enumerate(_WORD.finditer(strip_citations(text))):
        word = match.group(0).strip("-./+")
        if len(word) < 2:
            continue
        odd = any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:])
        if odd or (i > 0 and word[0].isupper()):
            found.add(word.lower())
    return found


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w\-./+]+", text.lower())) | {
        w.strip("-./+") for w in re.findall(r"[\w\-./+]+", text.lower())
    }


def is_claim(text: str) -> bool:
    """Whether a sentence states something to check (not "Here is what I found:")."""
    if is_refusal(text) or text.rstrip().endswith(":"):
        return False  # "The notes don't say." / a lead-in to a list
    return bool(numbers(text)) or len(set(search_terms(text))) >= MIN_CLAIM_TERMS


class SourceIndex:
    """The retrieved sources, split into sentences and embedded once per answer."""

    def __init__(self, chunks: Sequence[Passage], embed: Embed):
        self.chunks = {c.n: c for c in chunks}
        self.embed = embed
        self.text = {c.n: c.body.lower() for c in chunks}
        self.words = {n: _words(text) for n, text in self.text.items()}
        self.terms = {n: set(search_terms(text)) for n, text in self.text.items()}
        self.sentences: dict[int, list[Sentence]] = {}
        self.vectors: dict[int, np.ndarray] = {}
        for n, chunk in self.chunks.items():
            found = [s for s in split_sentences(chunk.body) if s.kind != HEADING]
            self.sentences[n] = found
            contexts = [f"{s.heading}: {s.text}" if s.heading else s.text for s in found]
            self.vectors[n] = np.asarray(embed(contexts)) if contexts else np.zeros((0, 1))

    def closest(self, vector: np.ndarray, cited: Sequence[int]) -> list[tuple[float, Sentence]]:
        """The sentences of the ``cited`` sources closest in meaning, best first."""
        scored = []
        for n in cited:
            vectors = self.vectors.get(n)
            if vectors is not None and len(vectors):
                sims = vectors @ vector
                scored.extend(zip(sims.tolist(), self.sentences[n], strict=True))
        scored.sort(key=lambda pair: -pair[0])
        return scored[:EVIDENCE_SENTENCES]

    def sharing(self, text: str, cited: Sequence[int]) -> list[tuple[float, Sentence]]:
        """The sentences of the ``cited`` sources sharing most key terms with ``text`` (a long
        source sentence can be far in meaning from a short claim it holds)."""
        terms = set(search_terms(text))
        scored = [
            (float(len(terms & set(search_terms(s.text)))), s)
            for n in cited
            for s in self.sentences[n]
        ]
        scored.sort(key=lambda pair: -pair[0])
        return [pair for pair in scored[:EVIDENCE_SENTENCES] if pair[0] > 0]

    def check(self, text: str, vector: np.ndarray, cited: Sequence[int]) -> Verdict:
        """Whether the sources ``cited`` (together) hold the sentence ``text``."""
        if not cited:
            return Verdict(False, "it cites no source")
        label = "".join(f"[{n}]" for n in cited)
        closest = self.closest(vector, cited)
        sharing = self.sharing(text, cited)
        evidence = {n for _, s in closest + sharing for n in numbers(s.text)}
        missing_numbers = sorted(set(numbers(text)) - evidence)
        if missing_numbers:
            return Verdict(False, f"{', '.join(missing_numbers)} is not in {label}")
        words = set().union(*(self.words[n] for n in cited))
        missing_names = sorted(name for name in names(text) if name not in words)
        if missing_names:
            return Verdict(False, f"{', '.join(missing_names)} is not in {label}")
        terms = set(search_terms(text))
        if terms:
            held = terms & set().union(*(self.terms[n] for n in cited))
            if len(held) / len(terms) < MIN_TERM_SHARE:
                absent = ", ".join(sorted(terms - held)[:4])
                return Verdict(False, f"{label} doesn't mention {absent}")
        similarity = closest[0][0] if closest else 0.0
        if similarity < MIN_SIMILARITY:
            return Verdict(False, f"no sentence of {label} says this")
        return Verdict(True)


@dataclass(frozen=True)
class CheckedAnswer:
    """The answer with its citations completed or corrected, and a claim per sentence."""

    answer: str
    claims: list[Claim]


def _cited(raw: str, count: int) -> tuple[list[int], list[int]]:
    """(valid, invalid) source numbers cited in a sentence, in order, once each."""
    numbers_cited = list(dict.fromkeys(citations(raw)))
    return [n for n in numbers_cited if 1 <= n <= count], [
        n for n in numbers_cited if not 1 <= n <= count
    ]


def verify(answer: str, chunks: Sequence[Passage], embed: Embed) -> CheckedAnswer:
    """Check every sentence of ``answer`` against the sources it cites (see the module doc)."""
    sentences = [s for s in split_sentences(answer) if s.kind != HEADING]
    if not sentences:
        return CheckedAnswer(answer, [])
    index = SourceIndex(chunks, embed)
    texts = [strip_citations(s.text).strip() for s in sentences]
    vectors = np.asarray(embed(texts))
    claims: list[Claim] = []
    edits: list[tuple[int, int, str]] = []
    numbers_by_rank = [c.n for c in chunks]
    for sentence, text, vector in zip(sentences, texts, vectors, strict=True):
        raw = answer[sentence.start : sentence.end]
        cited, invalid = _cited(raw, len(chunks))
        if not is_claim(text):
            claims.append(Claim(text, cited, True, ""))
            continue
        verdict = index.check(text, vector, cited) if cited else Verdict(False, "")
        sources = cited
        if not verdict.supported:
            # Another retrieved source may hold it: cite that one instead.
            others = [n for n in numbers_by_rank if n not in cited]
            holding = [n for n in others if index.check(text, vector, [n]).supported]
            if holding:
                sources, verdict = holding[:1], Verdict(True)
        if invalid and verdict.supported is False:
            verdict = Verdict(False, f"it cites [{invalid[0]}], which is not a source")
        if not verdict.supported and not verdict.reason:
            verdict = Verdict(False, "no source holds it")
        claims.append(
            Claim(
                text,
                list(sources),
                verdict.supported,
                verdict.reason,
                SUPPORTED if verdict.supported else NOT_IN_NOTES,
            )
        )
        if sources != cited or invalid:
            bare = strip_citations(raw).rstrip()
            marks = cite(sources) if verdict.supported else ""
            edits.append((sentence.start, sentence.end, f"{bare} {marks}".rstrip()))
    for start, end, replacement in reversed(edits):
        answer = answer[:start] + replacement + answer[end:]
    return CheckedAnswer(answer, claims)
