"""Answer modes side by side: what each gives a reader, measured in one run.

Every question goes through the chat's own answer path (``RagService.answer_stream``) once per
mode, on the same store, and is scored by ``rag/answer_eval.py``:
- keyword recall (the course's keywords in the answer, ignoring case; answerable questions);
- valid [n]: share of citations that name a source given with the answer; cited: share of
  answerable questions answered with at least one valid [n];
- supported: share of answer sentences the verifier finds held by the sources they cite;
- bad numbers: numbers in an answer found in none of its sources (count, answers with any);
- refusals: unanswerable questions the app said the notes don't cover; false refusals of
  answerable ones;
- median words of the answers to answerable questions; seconds to the first answer text and
  to the end (median / p95), the model loaded beforehand, as in a running app.

Question files and their documents:
- ``../shared/eval/insurellm/tests.jsonl`` on ``../shared/eval/insurellm/knowledge-base``;
- every ``tests/data/*.jsonl`` named after its documents: ``course_notes_*`` on
  ``../shared/course-notes``, ``knowledge_base_*`` on ``knowledge_base/`` (the ones with
  ``"answerable": false`` questions included).

Modes: today's default ``llamacpp:smollm2``, ``extractive:notes``, and the configured default
model (``RAG_MODEL``/settings) when it is another; ``--modes`` names others.

``--limit N`` takes N questions of each file, evenly spaced (so every part of a file, and both
kinds of question in a mixed one, are in), to fit a run in minutes on a busy machine.

Usage: .venv/bin/python benchmarks/bench_answers.py [--limit N] [--modes a,b,c] [--files ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.evaluation import (  # noqa: E402
    AnswerTotals,
    EvalCase,
    evaluate_answers,
    ingested_folder,
    load_tests,
)
from rag.llms import LLMError  # noqa: E402
from rag.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared"
INSURELLM = (SHARED / "eval/insurellm/knowledge-base", SHARED / "eval/insurellm/tests.jsonl")
DOCS_BY_PREFIX = {
    "course_notes": SHARED / "course-notes",
    "knowledge_base": ROOT / "knowledge_base",
}
BASELINE = "llamacpp:smollm2"
EXTRACTIVE = "extractive:notes"


def question_files() -> list[tuple[Path, Path]]:
    """(documents folder, tests file) for every question file whose documents are here."""
    files = [INSURELLM]
    for tests in sorted((ROOT / "tests/data").glob("*.jsonl")):
        for prefix, docs in DOCS_BY_PREFIX.items():
            if tests.name.startswith(prefix):
                files.append((docs, tests))
    return [(docs, tests) for docs, tests in files if docs.is_dir() and tests.is_file()]


def evenly_spaced(cases: list[EvalCase], limit: int | None) -> list[EvalCase]:
    if not limit or limit >= len(cases):
        return cases
    step = len(cases) / limit
    return [cases[int(i * step)] for i in range(limit)]


def recall_by_half(scores: list, lines: dict[int, int]) -> str:
    """Keyword recall of the answerable questions on odd and on even lines of the tests file
    (answer settings are chosen on the odd lines; the even ones are held out)."""
    halves: dict[str, list[float]] = {"odd": [], "even": []}
    for score in scores:
        if score.case.answerable:
            half = "odd" if lines[id(score.case)] % 2 else "even"
            halves[half].append(score.keyword_recall or 0.0)
    return ", ".join(
        f"{half} lines {_pct(sum(v) / len(v)) if v else '–'} ({len(v)})"
        for half, v in halves.items()
    )


def modes(extra: str | None) -> list[str]:
    configured = Settings().model
    # Extractive first: modes share one service, and its memory of sentence vectors would hand
    # the extractive answers the vectors an LLM answer's verifier had just computed.
    names = [EXTRACTIVE, BASELINE, configured, *(extra.split(",") if extra else [])]
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


def _shown(docs: Path) -> str:
    """A folder as the README names it: in this checkout, or beside it (../shared/...)."""
    for base, prefix in ((ROOT, ""), (ROOT.parent, "..")):
        if docs.is_relative_to(base):
            return str(Path(prefix, docs.relative_to(base)))
    return str(docs)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


HEADER = (
    "| mode | keyword recall | valid [n] | cited | supported | bad numbers (answers) "
    "| refused unanswerable | false refusals | median words | first text s median / p95 "
    "| total s median / p95 |"
)


def markdown_row(mode: str, t: AnswerTotals) -> str:
    refused = f"{t.refused_unanswerable}/{t.unanswerable}" if t.unanswerable else "–"
    words = "–" if t.median_words is None else f"{t.median_words:.0f}"
    cells = [
        f"`{mode}`",
        _pct(t.keyword_recall),
        _pct(t.valid_citations),
        _pct(t.cited),
        _pct(t.supported),
        f"{t.unsupported_numbers} ({t.answers_with_unsupported_numbers})",
        refused,
        f"{t.false_refusals}/{t.answerable}",
        words,
        f"{_s(t.first_text_median_s)} / {_s(t.first_text_p95_s)}",
        f"{_s(t.total_median_s)} / {_s(t.total_p95_s)}",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="questions per file, evenly spaced")
    parser.add_argument("--modes", help="more answer modes (backend:model), comma-separated")
    parser.add_argument(
        "--files", nargs="*", help="only the tests files whose path contains one of these"
    )
    args = parser.parse_args()
    from rag.embedding import create_embedder

    names = modes(args.modes)
    files = [
        (docs, tests)
        for docs, tests in question_files()
        if not args.files or any(part in str(tests) for part in args.files)
    ]
    print(f"modes: {', '.join(names)}; {os.cpu_count()} cores; load average {os.getloadavg()}")
    embedder = create_embedder(Settings().embedding_model)
    figures: dict[str, dict[str, dict]] = {}
    for docs, tests_path in files:
        every = load_tests(tests_path)
        lines = {id(case): number for number, case in enumerate(every, start=1)}
        cases = evenly_spaced(every, args.limit)
        label = tests_path.name if tests_path.parent.name == "data" else "insurellm/tests.jsonl"
        with tempfile.TemporaryDirectory(prefix="bench-answers-") as scratch:
            settings = Settings(_env_file=None, db_dir=Path(scratch) / "db", knowledge_dir=docs)
            with ingested_folder(settings, docs, embedder=embedder) as ingested:
                rows, halves = [], []
                for mode in names:
                    started = time.perf_counter()
                    try:
                        result = evaluate_answers(ingested.service, cases, model=mode)
                    except LLMError as exc:  # a mode this checkout or machine lacks
                        rows.append(f"| `{mode}` | not run: {exc} |")
                        continue
                    seconds = time.perf_counter() - started
                    totals = result.totals
                    figures.setdefault(label, {})[mode] = {
                        **totals.as_dict(),
                        "questions": [s.as_dict() for s in result.scores],
                    }
                    rows.append(markdown_row(mode, totals))
                    halves.append(
                        f"`{mode}` keyword recall: {recall_by_half(result.scores, lines)}"
                    )
                    print(
                        f"  {label}: {mode} done in {seconds:.0f} s "
                        f"(load average {os.getloadavg()[0]:.1f})",
                        file=sys.stderr,
                    )
        print(f"\n**{label}** on `{_shown(docs)}`, {len(cases)} questions\n")
        print(HEADER)
        print("|" + "---|" * (HEADER.count("|") - 1))
        print("\n".join(rows))
        print("\n" + "; ".join(halves))
    print(f"\nload average at the end {os.getloadavg()}")
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
