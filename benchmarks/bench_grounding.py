"""Trustworthy answers, measured: the sentence checker, "the notes don't say", and answer modes.

    python benchmarks/bench_grounding.py claims [--setting document retrieval] [--sweep]
        the sentence checker on tests/data/labels/claims.jsonl: balanced accuracy, flag precision
        and recall, supported kept and the share right per kind, on the dev half (where rules and
        thresholds were chosen) and the test half (held out); each claim against its whole source
        as [1] (document) and against the passages retrieval gives for it, as `rag check` does
        (retrieval). --sweep: the support thresholds on the dev half. --claims FILE: another
        labelled file instead (tests/data/labels/claims_fresh.jsonl: claims written afresh to
        choose rules on), each of its splits. Then the older labelled set
        (verifier_sentences.jsonl) as a regression check.
    python benchmarks/bench_grounding.py extractive
        the default extractive mode's answers to the tests files' questions, each sentence
        checked by the sentence checker against the passages it cites (all should be held).
    python benchmarks/bench_grounding.py relevance
        the relevance of the best sentence retrieved, for answerable and unanswerable questions
        (tests/data/*_answerable_or_not.jsonl), a threshold sweep (false refusals, false
        answers), and the chosen threshold checked on question sets it was not chosen on.
    python benchmarks/bench_grounding.py answers [--model NAME ...] [--limit N]
        answer keyword recall, words, citations, unsupported numbers, not-found and the time to
        the first answer text, per mode, all modes in one run over the same questions.

Stores are ingested once into --db-root (default /tmp/bench-grounding) and reused.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devtools.labelled_claims import load_claims, source_text  # noqa: E402
from rag.app import RagService, create_service  # noqa: E402
from rag.core import Passage  # noqa: E402
from rag.embedding import create_embedder  # noqa: E402
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings  # noqa: E402

SHARED = REPO.parent / "shared"
DATA = REPO / "tests" / "data"
CORPORA = {
    "knowledge_base": REPO / "knowledge_base",
    "course_notes": SHARED / "course-notes",
    "insurellm": SHARED / "eval" / "insurellm" / "knowledge-base",
}
TESTS = {
    "knowledge_base": DATA / "knowledge_base_tests.jsonl",
    "course_notes": DATA / "course_notes_tests.jsonl",
    "insurellm": SHARED / "eval" / "insurellm" / "tests.jsonl",
}
MIXED = {
    "knowledge_base": DATA / "knowledge_base_answerable_or_not.jsonl",
    "course_notes": DATA / "course_notes_answerable_or_not.jsonl",
}
_CITATION = re.compile(r"\[(\d{1,2})\]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def service_for(corpus: str, args, embedder, **overrides) -> RagService:
    settings = Settings(
        _env_file=None,
        db_dir=Path(args.db_root) / corpus,
        knowledge_dir=CORPORA[corpus],
        **overrides,
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    return service


# --- the sentence checker ------------------------------------------------------------------
KINDS = ["verbatim", "paraphrase", "swapped", "negated", "reversed", "number_moved", "unrelated"]
# A claim's corpus by the first part of its source (the retrieval setting reads the PDF as
# ingested; the document setting its markdown source).
CLAIM_CORPORA = {
    "knowledge_base": "knowledge_base",
    "course-notes": "course_notes",
    "insurellm": "insurellm",
}


def claim_figures(results: list[tuple[dict, str]]) -> dict:
    """Binary figures (supported against flagged) and the share right per kind."""
    supported = [v for r, v in results if r["supported"]]
    wrong = [v for r, v in results if not r["supported"]]
    kept = sum(v == "supported" for v in supported) / len(supported) if supported else 1.0
    caught = sum(v != "supported" for v in wrong) / len(wrong) if wrong else 1.0
    flagged = [r for r, v in results if v != "supported"]
    precision = sum(not r["supported"] for r in flagged) / len(flagged) if flagged else 1.0
    by_kind = {}
    for kind in KINDS:
        rows = [(r, v) for r, v in results if r["kind"] == kind]
        if rows:
            by_kind[kind] = sum((v == "supported") == r["supported"] for r, v in rows) / len(rows)
    return {
        "n": len(results),
        "balanced_accuracy": (kept + caught) / 2,
        "flag_precision": precision,
        "flag_recall": caught,
        "supported_kept": kept,
        "verdict_accuracy": sum(v == r["label"] for r, v in results) / len(results),
        "by_kind": by_kind,
    }


def cmd_claims(args, embedder) -> None:
    from rag.answer import ClaimChecker
    from rag.answer.checker import verdicts
    from rag.embedding import SentenceVectors

    rows = load_jsonl(Path(args.claims)) if args.claims else load_claims()
    vectors = SentenceVectors(embedder)

    def by_document(subset):
        checkers = {}
        results = []
        for row in subset:
            source = row["source"]
            if source not in checkers:
                text = source_text(source)
                checkers[source] = ClaimChecker([Passage(1, source, text, {}, 1.0)], vectors)
            results.append((row, checkers[source].check(row["sentence"]).verdict))
        return results

    def by_retrieval(subset):
        services = {}
        results = []
        for row in subset:
            corpus = CLAIM_CORPORA[row["source"].split("/")[0]]
            if corpus not in services:
                services[corpus] = service_for(corpus, args, embedder)
            claims = services[corpus].check_text(row["sentence"]).claims
            results.append((row, claims[0].verdict if claims else "supported"))
        return results

    if args.sweep:
        dev = [r for r in rows if r["split"] == "dev"]
        print("support thresholds on the dev half: share, similarity -> kept, caught, balanced")
        for share in (0.4, 0.45, 0.5, 0.55, 0.6):
            for similarity in (0.45, 0.5, 0.55, 0.6, 0.65):
                verdicts.MIN_SHARE, verdicts.MIN_SIMILARITY = share, similarity
                f = claim_figures(by_document(dev))
                print(
                    f"  {share:.2f} {similarity:.2f} -> {f['supported_kept']:.3f} "
                    f"{f['flag_recall']:.3f} {f['balanced_accuracy']:.3f}"
                )
        return
    for setting in args.setting:
        run = by_document if setting == "document" else by_retrieval
        for split in dict.fromkeys(r["split"] for r in rows):
            subset = [r for r in rows if r["split"] == split]
            started = time.perf_counter()
            results = run(subset)
            elapsed = time.perf_counter() - started
            f = claim_figures(results)
            kinds = " ".join(f"{k} {v:.2f}" for k, v in f["by_kind"].items())
            print(
                f"{setting:9s} {split:4s} n={f['n']} balanced {f['balanced_accuracy']:.3f} "
                f"flag P {f['flag_precision']:.3f} R {f['flag_recall']:.3f} "
                f"kept {f['supported_kept']:.3f} verdicts right {f['verdict_accuracy']:.3f} "
                f"({elapsed:.0f} s)\n          {kinds}"
            )
            if args.show_failures and split != "test":
                for row, verdict in results:
                    if (verdict == "supported") != row["supported"]:
                        print(f"    wrong [{row['kind']}] {row['sentence']} -> {verdict}")
    # The older labelled set, as a regression check (each sentence cites its source as [1]).
    from rag.answer import verify

    old = load_jsonl(DATA / "labels" / "verifier_sentences.jsonl")
    kept = caught = 0
    for row in old:
        text = (REPO / row["source"]).read_text(encoding="utf-8")
        passage = Passage(1, row["source"], text, {"source": row["source"]}, 1.0)
        claim = verify(row["sentence"] + " [1]", [passage], vectors).claims[0]
        kept += row["supported"] and claim.supported
        caught += not row["supported"] and not claim.supported
    supported = sum(r["supported"] for r in old)
    print(
        f"verifier_sentences.jsonl: supported kept {kept}/{supported}, "
        f"wrong flagged {caught}/{len(old) - supported}"
    )


def cmd_extractive(args, embedder) -> None:
    from rag.answer import ClaimChecker

    for corpus in args.corpus:
        service = service_for(corpus, args, embedder)
        held = total = 0
        for row in load_jsonl(TESTS[corpus]):
            finished = service.ask(row["question"], model="extractive:notes")
            if finished.not_found:
                continue
            checker = ClaimChecker(finished.chunks, service.sentence_vectors)
            for claim in finished.claims:
                checked = checker.check(claim.text, claim.sources)
                total += 1
                held += checked.supported
                if not checked.supported:
                    print(f"  not held: {claim.text} -> {checked.verdict}: {checked.reason}")
        print(f"{corpus}: extractive sentences held by their cited passages {held}/{total}")


# --- relevance -----------------------------------------------------------------------------
def relevances(service: RagService, questions: list[str]) -> list[float]:
    values = []
    for question in questions:
        chunks = service.retrieve(question)
        values.append(service.score_sentences(question, chunks).relevance)
    return values


def cmd_relevance(args, embedder) -> None:
    mixed = {}
    for corpus, path in MIXED.items():
        service = service_for(corpus, args, embedder)
        rows = load_jsonl(path)
        values = relevances(service, [r["question"] for r in rows])
        mixed[corpus] = [(r, v) for r, v in zip(rows, values, strict=True)]
        for row, value in sorted(mixed[corpus], key=lambda x: x[1]):
            mark = "A" if row.get("answerable", True) else "-"
            print(f"  {corpus[:6]} {mark} {value:.3f} {row['question'][:70]}")
    rows = [x for pairs in mixed.values() for x in pairs]
    print("threshold: false refusals (answerable refused) / false answers (unanswerable answered)")
    best = None
    for step in range(10, 61, 2):
        threshold = step / 100
        refused = sum(1 for r, v in rows if r.get("answerable", True) and v < threshold)
        answered = sum(1 for r, v in rows if not r.get("answerable", True) and v >= threshold)
        total_a = sum(1 for r, _ in rows if r.get("answerable", True))
        total_u = len(rows) - total_a
        print(
            f"  {threshold:.2f}: false refusals {refused}/{total_a}, false answers {answered}/{total_u}"
        )
        # A false refusal hides an answer the notes hold: it weighs twice a false answer.
        cost = 2 * refused + answered
        if best is None or cost < best[0]:
            best = (cost, threshold)
    threshold = best[1]
    print(f"chosen on the answerable-or-not sets: {threshold:.2f}")
    for corpus in ("knowledge_base", "course_notes", "insurellm"):
        service = service_for(corpus, args, embedder)
        questions = [r["question"] for r in load_jsonl(TESTS[corpus])]
        values = relevances(service, questions)
        refused = [q for q, v in zip(questions, values, strict=True) if v < threshold]
        print(
            f"held out {corpus}: {len(refused)}/{len(questions)} answerable refused "
            f"(lowest relevance {min(values):.3f})"
        )
        for q in refused:
            print(f"    refused: {q}")


# --- extractive settings ------------------------------------------------------------------
def cmd_sweep(args, embedder) -> None:
    """Extractive answer settings on the odd lines of the own tests files, then held out."""
    from rag.answer import extractive

    prepared = {}
    for corpus in args.corpus:
        service = service_for(corpus, args, embedder)
        for half in ("odd", "even"):
            rows = load_jsonl(TESTS[corpus])[0 if half == "odd" else 1 :: 2]
            prepared[(corpus, half)] = [
                (row, service.retrieve(row["question"]), service) for row in rows
            ]

    def run(half, dense_weight, budget, floor, lines):
        recalls, words = [], []
        for (_, h), items in prepared.items():
            if h != half:
                continue
            for row, chunks, service in items:
                found = extractive.candidates(chunks)
                scored = extractive.score_candidates(
                    row["question"], found, service.sentence_vectors
                )
                scored = dataclasses.replace(scored, dense_weight=dense_weight)
                answer = extractive.format_answer(
                    extractive.select(
                        scored, word_budget=budget, relative_floor=floor, max_lines=lines
                    )
                )
                low = answer.lower()
                recalls.append(
                    sum(k.lower() in low for k in row["keywords"]) / len(row["keywords"])
                )
                words.append(len(_CITATION.sub("", answer).split()))
        return statistics.fmean(recalls), statistics.median(words)

    results = []
    for dense_weight in (0.3, 0.5, 0.7, 1.0):
        for budget in (50, 60, 70):
            for floor in (0.5, 0.6, 0.75):
                for lines in (3, 4, 6):
                    recall, words = run("odd", dense_weight, budget, floor, lines)
                    results.append((recall, -words, dense_weight, budget, floor, lines))
    results.sort(reverse=True)
    for recall, words, *params in results[:12]:
        print(
            f"  odd recall {recall:.3f} median words {-words:.0f} dense, budget, floor, lines =",
            params,
        )
    best = next(r for r in results if -r[1] <= 80)
    recall, words = run("even", *best[2:])
    print(
        f"chosen {best[2:]}: odd recall {best[0]:.3f}; held-out even recall {recall:.3f}, "
        f"median words {words:.0f}"
    )


# --- answers -------------------------------------------------------------------------------
def answer_figures(service: RagService, rows: list[dict], model: str) -> dict:
    recalls, words, first, valid, unsupported_numbers, not_found, uncited = [], [], [], [], 0, 0, 0
    failures = []
    for row in rows:
        started = time.perf_counter()
        first_text = None
        finished = None
        for event in service.answer_stream(row["question"], model=model):
            kind = type(event).__name__
            if kind == "Token" and first_text is None and event.text.strip():
                first_text = time.perf_counter()
            if kind == "Finished":
                finished = event
        first.append(((first_text or time.perf_counter()) - started) * 1000)
        answer = finished.answer
        found = [k for k in row["keywords"] if k.lower() in answer.lower()]
        if row.get("answerable", True):
            recalls.append(len(found) / len(row["keywords"]))
            if len(found) < len(row["keywords"]):
                failures.append((row["question"], row["keywords"], answer))
        words.append(len(_CITATION.sub("", answer).split()))
        cited = {int(n) for n in _CITATION.findall(answer)}
        given = {c.n for c in finished.chunks}
        valid.append(bool(cited) and cited <= given)
        if not cited and not finished.not_found:
            uncited += 1
        sources = " ".join(c.text for c in finished.chunks)
        source_numbers = {n.replace(",", "") for n in _NUMBER.findall(sources)}
        answer_numbers = {n.replace(",", "") for n in _NUMBER.findall(_CITATION.sub("", answer))}
        unsupported_numbers += len(answer_numbers - source_numbers)
        not_found += finished.not_found
    return {
        "model": model,
        "questions": len(rows),
        "keyword_recall": statistics.fmean(recalls) if recalls else 0.0,
        "median_words": statistics.median(words),
        "valid_citations": sum(valid) / len(valid),
        "uncited_answers": uncited,
        "unsupported_numbers": unsupported_numbers,
        "not_found": not_found,
        "first_text_ms_median": statistics.median(first),
        "first_text_ms_p95": sorted(first)[max(0, round(0.95 * len(first)) - 1)],
        "failures": failures,
    }


def cmd_answers(args, embedder) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for corpus in args.corpus:
        service = service_for(corpus, args, embedder)
        rows = load_jsonl(TESTS[corpus])
        if args.half == "odd":
            rows = rows[0::2]
        elif args.half == "even":
            rows = rows[1::2]
        rows = rows[: args.limit] if args.limit else rows
        for model in args.model:
            service.ask("warm up", model=model)
            figures = answer_figures(service, rows, model)
            failures = figures.pop("failures")
            print(
                corpus,
                json.dumps(
                    {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
                ),
            )
            if args.show_failures:
                for question, keywords, answer in failures:
                    print(
                        f"   MISS {question}\n        wanted {keywords}\n        got {answer[:400]}"
                    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command", choices=["claims", "extractive", "relevance", "answers", "sweep"]
    )
    parser.add_argument("--db-root", default="/tmp/bench-grounding")
    parser.add_argument("--model", nargs="+", default=["extractive:notes"])
    parser.add_argument("--corpus", nargs="+", default=["knowledge_base", "course_notes"])
    parser.add_argument("--half", choices=["all", "odd", "even"], default="all")
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--show-failures", action="store_true", help="claims: the wrong verdicts, but on test"
    )
    parser.add_argument(
        "--claims", help="claims: another labelled file (same fields) instead of the project's"
    )
    parser.add_argument(
        "--setting", nargs="+", choices=["document", "retrieval"], default=["document", "retrieval"]
    )
    parser.add_argument("--sweep", action="store_true", help="claims: thresholds on dev")
    args = parser.parse_args()
    embedder = create_embedder(DEFAULT_EMBEDDING_MODEL)
    {
        "claims": cmd_claims,
        "extractive": cmd_extractive,
        "relevance": cmd_relevance,
        "answers": cmd_answers,
        "sweep": cmd_sweep,
    }[args.command](args, embedder)


if __name__ == "__main__":
    main()
