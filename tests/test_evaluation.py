"""Retrieval evaluation in the course's format: scoring, tests files, the CLI, a store of its own."""

from __future__ import annotations

import json
import math

import pytest

from devtools.paths import REPO_ROOT
from devtools.sample_documents import FACTS
from devtools.servers import run_module
from rag.core import Passage
from rag.evaluation import EvalCase, EvalFileError, load_tests, parse_tests
from rag.evaluation.retrieval import (
    evaluate,
    evaluate_folder,
    keyword_mrr,
    keyword_ndcg,
    score_question,
)

# One question per sample document; the keywords are words of its fact (and of no other file).
SAMPLE_TESTS = [
    {"question": FACTS["md"][2], "keywords": ["LoRA rank", "24"], "category": "direct_fact"},
    {"question": FACTS["txt"][2], "keywords": ["Zephyrine", "7 pieces"], "category": "numerical"},
    {"question": FACTS["pdf"][2], "keywords": ["Quokka", "3 bits"], "category": "numerical"},
    {"question": FACTS["docx"][2], "keywords": ["Otto"], "category": "direct_fact"},
    {"question": FACTS["html"][2], "keywords": ["Heliotrope", "1312"], "category": "numerical"},
]

# A question whose answer joins two sample documents.
TWO_DOCUMENT_TEST = {
    "question": "What LoRA rank was used in the lab, and how many pieces does the Zephyrine "
    "tokenizer split words into?",
    "keywords": ["24", "7 pieces"],
    "category": "conjunction",
    "documents": ["lora_notes.md", "tokenizer_notes.txt"],
}


def _write_tests(path, rows) -> None:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")


# --- scoring, as the course defines it -----------------------------------------------------------
def test_keyword_scores_follow_the_course_definitions():
    texts = ["nothing here", "Foo at rank two", "still nothing", "foo again at four"]

    assert keyword_mrr("FOO", texts) == 0.5
    assert keyword_mrr("absent", texts) == 0.0
    # Relevances 0,1,0,1 against the ideal 1,1,0,0.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    assert keyword_ndcg("foo", texts, 10) == pytest.approx(dcg / (1 + 1 / math.log2(3)))
    assert keyword_ndcg("foo", texts, 2) == pytest.approx((1 / math.log2(3)) / 1)
    assert keyword_ndcg("nothing", ["nothing", "nothing", "x"], 10) == 1.0


def test_a_question_averages_its_keywords():
    case = EvalCase("q", ("alpha", "beta", "gamma", "delta"))
    texts = ["alpha and beta", "gamma", "unrelated"]

    mrr, ndcg, coverage = score_question(case, texts, 10)

    assert mrr == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert coverage == 75.0
    # gamma sits at rank 2 behind a text without it: 1/log2(3) of its ideal.
    assert ndcg == pytest.approx((1 + 1 + 1 / math.log2(3) + 0) / 4)
    assert score_question(case, texts, 1)[2] == 50.0  # only the top text counts at k=1


# --- tests files -----------------------------------------------------------------------------
def test_the_course_format_is_read(tmp_path):
    path = tmp_path / "tests.jsonl"
    path.write_text(
        '{"question": "Who?", "keywords": ["Ann"], "reference_answer": "Ann.", '
        '"category": "direct_fact"}\n\n{"question": "What?", "keywords": ["x", "y"]}\n',
        encoding="utf-8",
    )

    cases = load_tests(path)

    assert cases == [
        EvalCase("Who?", ("Ann",), "direct_fact", "Ann."),
        EvalCase("What?", ("x", "y"), "general", ""),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "Who?", "keywords": ["Ann"]', "not valid JSON"),
        ('["Who?", ["Ann"]]', "expected a JSON object, got list"),
        ('{"keywords": ["Ann"]}', '"question" must be a non-empty string'),
        ('{"question": "Who?", "keywords": []}', '"keywords" must be a non-empty list'),
        ('{"question": "Who?", "keywords": "Ann"}', '"keywords" must be a non-empty list'),
        ('{"question": "Who?", "keywords": ["Ann"], "category": 3}', '"category"'),
    ],
)
def test_a_malformed_line_is_named_by_file_and_number(tmp_path, line, message):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "Fine?", "keywords": ["ok"]}\n' + line + "\n", encoding="utf-8")

    with pytest.raises(EvalFileError) as caught:
        load_tests(path)

    assert f"{path}, line 2: " in str(caught.value)
    assert message in str(caught.value)


def test_the_documents_a_question_needs_and_its_hops_are_read():
    cases = parse_tests(
        [
            '{"question": "A and B?", "keywords": ["a"], "category": "conjunction", '
            '"documents": ["a.md", "sub/b.pdf"]}',
            '{"question": "C via D?", "keywords": ["c"], "documents": ["c.md", "d.md"], "hops": 3}',
            '{"question": "E?", "keywords": ["e"]}',
        ]
    )

    assert cases[0].documents == ("a.md", "sub/b.pdf") and cases[0].needed == 2
    assert cases[1].hops == 3 and cases[1].needed == 3
    assert cases[2].documents == () and cases[2].needed == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('"documents": "a.md"', '"documents" must be a list of file names'),
        ('"documents": ["a.md", ""]', '"documents" must be a list of file names'),
        ('"documents": ["a.md"], "hops": 0', '"hops" must be a positive whole number'),
        ('"documents": ["a.md"], "hops": "2"', '"hops" must be a positive whole number'),
    ],
)
def test_malformed_documents_or_hops_are_refused(extra, message):
    with pytest.raises(EvalFileError, match=message):
        parse_tests(['{"question": "q", "keywords": ["k"], ' + extra + "}"])


def test_an_empty_or_missing_tests_file_is_refused(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")

    with pytest.raises(EvalFileError, match="no questions"):
        load_tests(empty)
    with pytest.raises(EvalFileError, match="no such tests file"):
        load_tests(tmp_path / "missing.jsonl")
    assert parse_tests(['{"question": "q", "keywords": ["k"]}'])[0].question == "q"


def test_the_bundled_tests_files_are_well_formed():
    # Conversations (*_conversations.jsonl) are three turns a line, not the course's format.
    data = REPO_ROOT / "tests" / "data"
    bundled = sorted(p for p in data.glob("*.jsonl") if not p.stem.endswith("_conversations"))

    assert bundled
    for path in bundled:
        assert load_tests(path)


# --- running through the app's retriever -----------------------------------------------------
def test_evaluate_scores_the_chat_retriever_with_progress(ingested_service):
    cases = parse_tests([json.dumps(row) for row in SAMPLE_TESTS])
    seen = []

    result = evaluate(ingested_service, cases, k=3, progress=lambda *a: seen.append(a))

    assert [done for done, _, _ in seen] == [1, 2, 3, 4, 5]
    assert {total for _, total, _ in seen} == {5}
    assert result.totals.n == 5
    assert result.totals.coverage == 100.0
    assert result.totals.mrr >= 0.9
    assert set(result.by_category()) == {"direct_fact", "numerical"}
    # What was scored is what the chat would get: the same passages, in the same order.
    first = ingested_service.retrieve(cases[0].question, 3)
    assert result.scores[0].sources == [p.source for p in first]
    summary = result.as_dict()
    assert set(summary) == {"mrr", "ndcg", "coverage", "n", "by_category"}
    assert "total" in result.table() and "numerical" in result.table()


class Library:
    """Passages by question, as a retriever would give them (for the scoring alone)."""

    def __init__(self, found: dict[str, list[str]]):
        self.found = found

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return [
            Passage(n, source, f"{source}: {question}", {"source": source}, 1.0)
            for n, source in enumerate(self.found[question][:k], start=1)
        ]

    def answer_context(self, question: str) -> list[Passage]:
        return self.retrieve(question, 2)  # what an answer reads: fewer than the scored k


def test_completeness_counts_a_document_missing_from_what_the_answer_reads():
    cases = [
        EvalCase("A and B?", ("A and B",), "conjunction", documents=("a.md", "b.md")),
        EvalCase("C, D and E?", ("C, D",), "conjunction", documents=("c.md", "d.md", "e.md")),
        EvalCase("F or G?", ("F or G",), "comparison", documents=("f.md", "g.md")),
        EvalCase("Just H?", ("Just H",), "single"),
    ]
    library = Library(
        {
            "A and B?": ["b.md", "a.md", "x.md"],
            "C, D and E?": ["c.md", "d.md", "e.md"],  # e.md is third: not read by the answer
            "F or G?": ["f.md", "x.md", "g.md"],  # g.md too
            "Just H?": ["h.md"],
        }
    )

    result = evaluate(library, cases, k=10, context=library.answer_context)

    assert [s.complete for s in result.scores] == [True, False, False, None]
    assert [s.missing_documents for s in result.scores] == [[], ["e.md"], ["g.md"], []]
    assert result.scores[1].coverage == 100.0  # the keywords' top 10 had all three
    complete = result.totals.complete
    assert (complete.complete, complete.n) == (1, 3)
    assert {h: (c.complete, c.n) for h, c in result.completeness_by_hops().items()} == {
        2: (1, 2),
        3: (0, 1),
    }
    assert result.by_category()["conjunction"].complete.share == 50.0
    assert result.by_category()["single"].complete is None
    summary = result.as_dict()
    assert summary["complete"] == {"share": 33.33, "complete": 1, "n": 3}
    assert summary["complete_by_hops"]["3"] == {"share": 0.0, "complete": 0, "n": 1}
    assert "complete" not in summary["by_category"]["single"]
    rows = {row[0]: row[-1] for row in result.rows()}
    assert rows == {"comparison": "0/1 (0%)", "conjunction": "1/2 (50%)", "single": "–",
                    "total": "1/3 (33%)"}  # fmt: skip
    assert "3 documents: 0/1 (0%)" in result.completeness_line()
    assert [s.case.question for s in result.misses(2)] == ["C, D and E?", "F or G?"]
    # Without the answer's passages there is nothing to check.
    assert evaluate(library, cases, k=10).totals.complete is None


def test_a_folder_is_evaluated_on_a_store_of_its_own(ingested_service, sample_docs):
    service = ingested_service
    before = service.store.count()
    cases = parse_tests([json.dumps(row) for row in SAMPLE_TESTS])
    steps = []

    run = evaluate_folder(
        service.settings,
        sample_docs,
        cases,
        embedder=service.embedder,
        k=5,
        progress=lambda fraction, text: steps.append(fraction),
    )

    assert run.report.count("added") == len(FACTS)
    assert run.result.totals.coverage == 100.0
    assert str(service.settings.db_dir) not in run.store  # a temporary store, not the user's
    assert service.store.count() == before
    assert steps == sorted(steps) and steps[-1] == pytest.approx(1.0)


def test_eval_cli_prints_the_table_and_ends_with_json(tmp_path, sample_docs):
    tests = tmp_path / "tests.jsonl"
    _write_tests(tests, SAMPLE_TESTS)
    result = run_module(
        "rag", "eval", "--docs", str(sample_docs), "--tests", str(tests), "--k", "3", "--json"
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) == {"mrr", "ndcg", "coverage", "n", "by_category"}
    assert summary["n"] == 5 and summary["coverage"] == 100.0
    assert set(summary["by_category"]) == {"direct_fact", "numerical"}
    assert any(line.startswith("total") for line in lines)
    assert "5 files (5 added)" in result.stdout


def test_eval_cli_checks_the_documents_a_question_needs(tmp_path, sample_docs):
    tests = tmp_path / "tests.jsonl"
    _write_tests(
        tests,
        [
            *SAMPLE_TESTS[:2],
            TWO_DOCUMENT_TEST,
        ],
    )
    result = run_module(
        "rag", "eval", "--docs", str(sample_docs), "--tests", str(tests), "--k", "3", "--json"
    )

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["complete"] == {"share": 100.0, "complete": 1, "n": 1}
    assert summary["by_category"]["conjunction"]["complete"]["n"] == 1
    assert summary["complete_by_hops"] == {"2": {"share": 100.0, "complete": 1, "n": 1}}
    assert "All the documents needed in the answer's passages: 1/1 (100%)" in result.stdout
    assert "(the passages extractive:notes reads)" in result.stdout


def test_eval_cli_names_the_bad_line_of_a_tests_file(tmp_path, sample_docs):
    tests = tmp_path / "tests.jsonl"
    tests.write_text('{"question": "ok?", "keywords": ["k"]}\nnot json\n', encoding="utf-8")

    result = run_module(
        "rag", "eval", "--docs", str(sample_docs), "--tests", str(tests), timeout=120
    )

    assert result.returncode == 2
    assert f"{tests}, line 2: not valid JSON" in result.stderr


# --- the Evaluate tab ---------------------------------------------------------------------------
@pytest.fixture
def evaluate_tab(ingested_service, tmp_path):
    """The tab's handlers over the sample documents' service, a tests file configured."""
    from rag.ui.evaluate import EvaluateHandlers

    tests = tmp_path / "sample_tests.jsonl"
    _write_tests(tests, SAMPLE_TESTS)
    settings = ingested_service.settings
    ingested_service.settings = settings.model_copy(update={"eval_tests": tests})
    yield EvaluateHandlers(ingested_service), tests
    ingested_service.settings = settings


def test_the_tab_evaluates_on_a_store_of_its_own(evaluate_tab):
    handlers, tests = evaluate_tab
    service = handlers.service
    before = service.store.count()
    labels = [label for label, _ in handlers.tests_choices()]

    status, rows, weakest, answers = handlers.run(str(tests), None, None, 3)

    assert labels[:2] == [
        "sample_tests.jsonl (RAG_EVAL_TESTS)",
        "knowledge_base_tests.jsonl (bundled)",  # the default documents' questions come first
    ]
    assert "course_notes_tests.jsonl (bundled)" in labels
    assert "**5 questions**" in status and "coverage **100.0%**" in status
    assert [r[0] for r in rows] == ["direct_fact", "numerical", "total"]
    assert rows[-1][1] == 5
    assert all(len(w) == 6 for w in weakest)
    assert answers == []  # retrieval only
    assert service.store.count() == before  # the chat's store is untouched


def test_the_tab_shows_whether_the_answer_reads_every_document_needed(evaluate_tab, tmp_path):
    handlers, _ = evaluate_tab
    tests = tmp_path / "multi.jsonl"
    _write_tests(tests, [TWO_DOCUMENT_TEST])

    status, rows, weakest, _ = handlers.run(None, str(tests), None, 3)

    # The chat model's prompt (the service's llamacpp:smollm2) keeps both documents.
    assert "All the documents needed in the answer's passages: 1/1 (100%)" in status
    assert rows == [
        ["conjunction", 1, rows[0][2], rows[0][3], rows[0][4], "1/1 (100%)"],
        ["total", 1, rows[1][2], rows[1][3], rows[1][4], "1/1 (100%)"],
    ]
    assert all(w[4] == "" for w in weakest)  # no document missing


def test_the_tabs_first_choices_score_the_bundled_notes(make_service, tmp_path):
    """Out of the box: the first tests file on offer, on the default documents folder."""
    from rag.ui.evaluate import EvaluateHandlers

    service = make_service(knowledge_dir=REPO_ROOT / "knowledge_base")
    handlers = EvaluateHandlers(service)
    first = handlers.tests_choices()[0][1]

    status, rows, _, _ = handlers.run(first, None, None, 10)

    assert first.endswith("knowledge_base_tests.jsonl")
    assert "**20 questions**" in status and "10 added" in status  # 9 notes and the PDF
    total = rows[-1]
    assert total[0] == "total" and total[1] == 20
    assert total[2] > 0.9 and total[4] > 95  # MRR and coverage %: these are its own notes


def test_the_tab_refuses_bad_input_with_a_reason(evaluate_tab, tmp_path):
    handlers, tests = evaluate_tab
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "q?", "keywords": ["k"]}\n{"question": 1}\n', encoding="utf-8")

    bad_line = handlers.run(None, str(broken), None, 10)
    nothing = handlers.run(None, None, None, 10)
    elsewhere = handlers.run(str(tests), None, str(tmp_path), 10)

    assert bad_line[0].startswith("**Can't evaluate:**") and "line 2" in bad_line[0]
    assert "Choose a tests file" in nothing[0]
    assert "is not inside a folder this app may read" in elsewhere[0]
    assert bad_line[1:] == nothing[1:] == elsewhere[1:] == ([], [], [])


def test_the_tab_builds_in_a_blocks_context(evaluate_tab):
    import gradio as gr

    from rag.ui.evaluate import build_evaluate_tab

    with gr.Blocks() as demo, gr.Tab("Evaluate"):
        build_evaluate_tab(evaluate_tab[0].service)

    assert any(
        getattr(block, "label", None) == "Scores by category" for block in demo.blocks.values()
    )
