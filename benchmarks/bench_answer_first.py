"""Issue 21's measures of the default answers (``extractive:notes``), all sets in one run.

For each set, every question goes through the chat's own answer path
(``RagService.answer_stream``) on a store of its documents (ingested once into ``--db-root``
and reused), scored as ``python -m rag eval --answers`` scores it:

- the dev sets, ``insurellm`` (``../shared/eval/insurellm/tests.jsonl``) and ``course_notes``
  (``tests/data/course_notes_tests.jsonl``): keyword recall, lead keyword recall (up to the
  first [n]), median words, bare lines (lines that say nothing alone), first text (s);
- the answerable-or-not sets (``*_answerable_or_not``): unanswerable questions refused,
  answerable ones refused (false refusals);
- the conversations (``*_conversations``): follow-up turns' keyword recall and lead keyword
  recall, sentences repeated from the last answer (and in how many answers).

    python benchmarks/bench_answer_first.py [--sets insurellm,course_notes,...] [--show]
        [--db-root /tmp/bench-answer-first] [--json FILE] [--passes N]

``--show`` prints each answer under its question, ``--json`` writes every answer and figure;
``--passes 2`` asks every set twice in the same process: the second pass's first-text times
are the warm ones (the passages' sentence vectors already computed, as in a running app).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.app import create_service  # noqa: E402
from rag.embedding import create_embedder  # noqa: E402
from rag.evaluation import evaluate_answers, load_tests  # noqa: E402
from rag.evaluation.cases import load_conversations  # noqa: E402
from rag.evaluation.conversations import evaluate_conversations  # noqa: E402
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings  # noqa: E402

SHARED = ROOT.parent / "shared"
DATA = ROOT / "tests" / "data"
CORPORA = {
    "insurellm": SHARED / "eval" / "insurellm" / "knowledge-base",
    "course_notes": SHARED / "course-notes",
    "knowledge_base": ROOT / "knowledge_base",
}
#: name: (corpus, file, kind)
SETS = {
    "insurellm": ("insurellm", SHARED / "eval" / "insurellm" / "tests.jsonl", "tests"),
    "course_notes": ("course_notes", DATA / "course_notes_tests.jsonl", "tests"),
    "knowledge_base": ("knowledge_base", DATA / "knowledge_base_tests.jsonl", "tests"),
    "cn_answerable_or_not": (
        "course_notes",
        DATA / "course_notes_answerable_or_not.jsonl",
        "tests",
    ),
    "kb_answerable_or_not": (
        "knowledge_base",
        DATA / "knowledge_base_answerable_or_not.jsonl",
        "tests",
    ),
    "cn_conversations": ("course_notes", DATA / "course_notes_conversations.jsonl", "talks"),
    "kb_conversations": ("knowledge_base", DATA / "knowledge_base_conversations.jsonl", "talks"),
}
DEFAULT_SETS = list(SETS)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS))
    parser.add_argument("--db-root", default="/tmp/bench-answer-first")
    parser.add_argument("--show", action="store_true", help="print every answer")
    parser.add_argument("--json", type=Path, help="write every answer and figure here")
    parser.add_argument("--passes", type=int, default=1, help="ask every set this many times")
    args = parser.parse_args()
    embedder = create_embedder(DEFAULT_EMBEDDING_MODEL)
    services = {}
    report = {}
    names = [name for _ in range(args.passes) for name in args.sets.split(",")]
    for number, name in enumerate(names):
        corpus, path, kind = SETS[name]
        if corpus not in services:
            settings = Settings(
                _env_file=None,
                db_dir=Path(args.db_root) / corpus,
                knowledge_dir=CORPORA[corpus],
                model="extractive:notes",
            )
            services[corpus] = create_service(settings, embedder_factory=lambda s: embedder)
            services[corpus].ingest_knowledge_dir()
        service = services[corpus]
        started = time.perf_counter()
        if kind == "tests":
            result = evaluate_answers(service, load_tests(path))
            t = result.totals
            line = (
                f"keywords {pct(t.keyword_recall)}  lead {pct(t.lead_keyword_recall)}  "
                f"median words {t.median_words}  bare lines {t.bare_lines}  "
                f"refused {t.refused_unanswerable}/{t.unanswerable}  "
                f"false refusals {t.false_refusals}  first text s "
                f"{t.first_text_median_s:.2f}/{t.first_text_p95_s:.2f}"
            )
            shown = [(s.case.question, s.answer, s.missing) for s in result.scores]
        else:
            result = evaluate_conversations(service, load_conversations(path))
            f = result.follow_ups
            first = result.groups()["turn 1"].answers
            line = (
                f"turn 1 keywords {pct(first.keyword_recall)}  follow-ups keywords "
                f"{pct(f.answers.keyword_recall)}  lead {pct(f.answers.lead_keyword_recall)}  "
                f"repeated {f.repeated_sentences} ({f.answers_repeating} answers)  "
                f"median words {f.answers.median_words}  bare lines {f.answers.bare_lines}"
            )
            shown = [
                (
                    f"{t.conversation}.{t.turn} {t.score.case.question}",
                    t.score.answer,
                    t.score.missing + [f"repeats: {r}" for r in t.repeated],
                )
                for t in result.turns
            ]
        run = (
            f"{name} (pass {number // len(args.sets.split(',')) + 1})" if args.passes > 1 else name
        )
        print(f"{run:22} {line}  ({time.perf_counter() - started:.0f} s)", flush=True)
        if args.show:
            for question, answer, note in shown:
                print(f"\n## {question}  {note or ''}\n{answer}")
            print()
        report[name] = result.as_dict()
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
