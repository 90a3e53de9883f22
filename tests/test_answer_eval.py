"""Answer evaluation: the metrics on hand-made answers, the CLI end to end with the real model,
and the LLM-as-judge against the real llama.cpp OpenAI-compatible server on loopback."""

from __future__ import annotations

import json

import pytest

from devtools.sample_documents import FACTS
from devtools.servers import free_port, run_module
from rag.app import Finished
from rag.core import Claim, Passage, citations
from rag.evaluation import AnswerEvalResult, EvalCase, EvalFileError, answer_totals, parse_tests
from rag.evaluation.answer_metrics import (
    bare_lines,
    invalid_citations,
    keyword_recall,
    lead,
    lead_keyword_recall,
    median,
    p95,
    repeated_sentences,
    says_not_covered,
    unsupported_numbers,
    word_count,
)
from rag.evaluation.answers import evaluate_answers, score_answer
from rag.evaluation.cases import parse_conversations
from rag.evaluation.judge import AnswerJudge, parse_judgement
from rag.llms import create_chat_model

SOURCES = [
    "Insurellm | Overview\n\nInsurellm has 32 active contracts and 1,200 customers.",
    "Carllm | Pricing\n\nCarllm costs $1.5 per policy; launched in 2015 by Avery Lancaster.",
]


def _chunks(texts=SOURCES) -> list[Passage]:
    return [
        Passage(n, f"c{n}", text, {"source": f"doc{n}.md"}, 1.0)
        for n, text in enumerate(texts, start=1)
    ]


def _finished(answer: str, claims=(), not_found: bool = False) -> Finished:
    return Finished(answer, "test:hand-made", _chunks(), {}, list(claims), not_found)


# --- the metrics on hand-made answers ----------------------------------------------------------
def test_keyword_recall_is_the_share_of_course_keywords_in_the_answer_ignoring_case():
    recall, missing = keyword_recall(
        "AVERY lancaster founded it [2].", ["Avery", "Lancaster", "2015"]
    )

    assert recall == pytest.approx(2 / 3)
    assert missing == ["2015"]
    assert keyword_recall("anything", [])[0] == 1.0


def test_lead_keyword_recall_counts_only_the_keywords_before_the_first_citation():
    answer = "Carllm's Enterprise Tier costs $5,000/month. [1]\nThe Professional Tier: $2,500. [1]"

    assert lead(answer) == "Carllm's Enterprise Tier costs $5,000/month. "
    assert lead_keyword_recall(answer, ["$5,000", "Enterprise"]) == 1.0
    assert lead_keyword_recall(answer, ["$5,000", "$2,500"]) == 0.5
    assert lead("No citation at all.") == "No citation at all."


def test_bare_lines_are_short_lines_without_a_figure_and_lead_ins_without_their_items():
    answer = (
        "Maxine Thompson:\n"
        "- Current Salary: $120,000. [1]\n"
        "- Insurellm, Inc. [1]\n"
        "It has 3 main features: Models; Datasets; Spaces. [2]\n"
        "QLoRA works in four steps: [2]\n"
        "- 4-bit NormalFloat quantization of the base. [2]\n"
        "RAG fixes this by: [2]"
    )

    assert bare_lines(answer) == ["Maxine Thompson:", "- Insurellm, Inc.", "RAG fixes this by:"]
    assert bare_lines("Q1 2025. [1]\nThe context window is 8k tokens. [1]") == []


def test_a_sentence_is_repeated_when_the_last_answer_showed_it_under_any_label():
    previous = "QLoRA:\n- Step 1: the base model is stored in 4-bit NormalFloat. [1]\nOK. [1]"
    answer = (
        "QLoRA › Step 1: the base model is stored in 4-bit NormalFloat. [2] "
        "An 8B model fits on a 16-24 GB card. [1] OK. [1]"
    )

    assert repeated_sentences(answer, previous) == [
        "QLoRA › Step 1: the base model is stored in 4-bit NormalFloat."
    ]
    assert repeated_sentences(previous, "") == []


def test_citations_are_valid_only_when_they_name_a_source_given_with_the_answer():
    answer = "It has 32 contracts [1]. It was founded in 2015 [2, 3]. See also [7][1]."

    assert citations(answer) == [1, 2, 3, 7, 1]
    assert invalid_citations(answer, [1, 2]) == [3, 7]
    assert invalid_citations("No citation at all.", [1]) == []


def test_numbers_found_in_no_source_are_unsupported_and_citations_or_list_numbers_are_not():
    answer = (
        "1. Insurellm has 24 active contracts [1].\n"
        "2. It has 1200 customers [1] and Carllm costs $1.5 [2], or 5 [3].\n"
        "3. GPT-4 was not in 2015."
    )

    assert unsupported_numbers(answer, SOURCES) == ["24", "5", "4"]
    assert unsupported_numbers("It has 1,200 customers [1].", SOURCES) == []
    assert unsupported_numbers("No numbers here [2].", SOURCES) == []


def test_refusals_are_the_not_found_flag_or_the_notes_dont_say():
    assert says_not_covered("The notes don't say.")
    assert says_not_covered("The notes do not cover this question; closest: a.md, b.md.")
    assert not says_not_covered("The notes say it costs $1.5 [2].")

    unanswerable = EvalCase("Who is the CEO of Mars?", (), "unanswerable", "", answerable=False)
    answerable = EvalCase("Who founded Carllm?", ("Avery", "Lancaster"), "direct_fact")
    refused = score_answer(
        unanswerable, _finished("The notes don't cover it.", not_found=True), 0.1, 0.1
    )
    invented = score_answer(unanswerable, _finished("Elon Musk is the CEO [1]."), 1.0, 2.0)
    false_refusal = score_answer(answerable, _finished("The notes don't say."), 1.0, 2.0)
    answered = score_answer(answerable, _finished("Avery Lancaster founded it [2]."), 1.0, 2.0)

    totals = answer_totals([refused, invented, false_refusal, answered])

    assert (refused.refused, refused.not_found, refused.keyword_recall) == (True, True, None)
    assert (invented.refused, false_refusal.refused, answered.refused) == (False, True, False)
    assert (totals.refused_unanswerable, totals.unanswerable, totals.false_refusals) == (1, 2, 1)
    assert totals.keyword_recall == pytest.approx(0.5)  # the false refusal scores 0


def test_totals_count_citations_supported_sentences_numbers_words_and_times():
    case = EvalCase("How many contracts?", ("32", "contracts"), "numerical")
    good = score_answer(
        case,
        _finished(
            "Insurellm has 32 active contracts [1]. It has 1,200 customers [1].",
            [
                Claim("Insurellm has 32 active contracts.", [1]),
                Claim("It has 1,200 customers.", [1]),
            ],
        ),
        0.2,
        1.0,
    )
    bad = score_answer(
        case,
        _finished(
            "Insurellm has 24 contracts [4]. It is big.",
            [
                Claim("Insurellm has 24 contracts.", [4], False, "24 is in no source"),
                Claim("It is big.", [], False, "no source holds it"),
            ],
        ),
        0.4,
        3.0,
    )

    totals = answer_totals([good, bad])

    assert good.cited and not bad.cited
    assert totals.valid_citations == pytest.approx(2 / 3)  # [1], [1] valid; [4] names nothing
    assert totals.cited == 0.5
    assert totals.supported == 0.5  # 2 of 4 sentences
    assert (totals.unsupported_numbers, totals.answers_with_unsupported_numbers) == (1, 1)
    assert totals.keyword_recall == pytest.approx(0.75)
    assert (good.words, bad.words, totals.median_words) == (9, 7, 8)
    assert (totals.first_text_median_s, totals.total_p95_s) == (pytest.approx(0.3), 3.0)
    assert word_count("Insurellm has 32 active contracts [1].") == 5


def test_percentiles_are_median_and_nearest_rank_p95():
    values = list(range(1, 21))

    assert median(values) == 10.5 and p95(values) == 19
    assert median([]) is None and p95([]) is None


def test_the_table_has_a_row_per_category_then_the_total_and_json_holds_every_figure():
    cases = [
        EvalCase("How many contracts?", ("32",), "numerical"),
        EvalCase("Who is the CEO of Mars?", (), "unanswerable", answerable=False),
    ]
    scores = [
        score_answer(cases[0], _finished("32 [1]."), 0.1, 0.2),
        score_answer(cases[1], _finished("The notes don't say.", not_found=True), 0.1, 0.1),
    ]
    result = AnswerEvalResult(scores, "test:hand-made")

    rows = result.rows()
    summary = json.loads(json.dumps(result.as_dict()))

    assert [row[0] for row in rows] == ["numerical", "unanswerable", "total"]
    assert rows[-1][result.headers().index("refused (unanswerable)")] == "1/1"
    assert summary["keyword_recall"] == 1.0 and summary["refused_unanswerable"] == 1
    assert set(summary["by_category"]) == {"numerical", "unanswerable"}
    assert summary["questions"][1]["not_found"] is True
    assert "total" in result.table().splitlines()[-1]


def test_a_conversations_file_has_turns_read_as_questions_and_bad_turns_name_their_line():
    conversations = parse_conversations(
        [
            '{"id": "c1", "turns": [{"question": "What is QLoRA?", "keywords": ["NF4"]},'
            ' {"question": "And LoRA?", "keywords": ["rank"]}]}',
        ],
        "talks.jsonl",
    )

    assert [c.id for c in conversations] == ["c1"]
    assert [t.question for t in conversations[0].turns] == ["What is QLoRA?", "And LoRA?"]
    with pytest.raises(EvalFileError, match=r"talks\.jsonl, line 1, turn 2: \"keywords\""):
        parse_conversations(
            ['{"id": "c", "turns": [{"question": "a?", "keywords": ["k"]}, {"question": "b?"}]}'],
            "talks.jsonl",
        )
    with pytest.raises(EvalFileError, match=r"line 1: \"turns\" must be a non-empty list"):
        parse_conversations(['{"id": "c", "turns": []}'], "talks.jsonl")


def test_tests_files_mark_unanswerable_questions_and_bad_marks_name_the_line():
    cases = parse_tests(
        [
            '{"question": "Known?", "keywords": ["k"]}',
            '{"question": "Unknown?", "answerable": false, "category": "unanswerable"}',
        ],
        "mixed.jsonl",
    )

    assert [c.answerable for c in cases] == [True, False]
    assert cases[1].keywords == ()
    with pytest.raises(EvalFileError, match=r"bad\.jsonl, line 1: \"answerable\" must be true"):
        parse_tests(['{"question": "q?", "keywords": ["k"], "answerable": "no"}'], "bad.jsonl")
    with pytest.raises(EvalFileError, match=r"bad\.jsonl, line 1: \"keywords\""):
        parse_tests(['{"question": "q?", "answerable": true}'], "bad.jsonl")


# --- the judge's reply --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "reply",
    [
        '{"accuracy": 4, "completeness": 3, "relevance": 5, "feedback": "Good."}',
        'Here you go:\n```json\n{"Accuracy": "4", "completeness": 3.0, "relevance": 5}\n```',
        '{"accuracy": 4, "completeness": 3, "relevance": 5, "feedback": "It is cut of',
    ],
)
def test_the_judges_scores_are_read_from_json_prose_or_a_cut_off_reply(reply):
    judgement = parse_judgement(reply)

    assert judgement is not None
    assert (judgement.accuracy, judgement.completeness, judgement.relevance) == (4, 3, 5)


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "The answer is good.",
        '{"accuracy": 7, "completeness": 3, "relevance": 5}',
        '{"accuracy": 4, "completeness": 3}',
        '{"accuracy": true, "completeness": 3, "relevance": 5}',
        "[1, 2, 3]",
    ],
)
def test_a_judges_junk_reply_gives_no_scores(reply):
    assert parse_judgement(reply) is None


# --- the real model, the real judge server ---------------------------------------------------
def test_the_judge_scores_an_answer_1_to_5_through_the_llama_cpp_openai_server(
    make_settings, llama_server
):
    judge = AnswerJudge(
        create_chat_model("openai:smollm2", make_settings(openai_base_url=llama_server))
    )

    judgement, reply = judge.judge(
        "Who founded Insurellm?",
        "Avery Lancaster founded Insurellm in 2015 [1].",
        "Avery Lancaster founded Insurellm in 2015.",
    )

    assert judgement is not None, f"no scores in the structured reply: {reply!r}"
    scores = (judgement.accuracy, judgement.completeness, judgement.relevance)
    assert all(score in range(1, 6) for score in scores)
    assert json.loads(reply)["accuracy"] == judgement.accuracy  # the schema was followed


def test_an_unreachable_judge_leaves_answers_unjudged_and_counted(ingested_service, make_settings):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    judge = AnswerJudge(create_chat_model("openai:smollm2", make_settings(openai_base_url=dead)))
    case = EvalCase(FACTS["md"][2], ("24",), "direct_fact", "The LoRA rank was 24.")

    result = evaluate_answers(ingested_service, [case], judge=judge)

    totals = result.totals
    assert (totals.judged, totals.unjudged) == (0, 1)
    assert totals.judge_scores == {"accuracy": None, "completeness": None, "relevance": None}
    assert result.scores[0].judge_reply.startswith("(failed: ")
    assert result.rows()[-1][-1] == 1  # the table's "unjudged" column


@pytest.mark.slow
def test_eval_answers_cli_answers_judges_and_ends_with_json_on_the_bundled_notes(llama_server):
    result = run_module(
        "rag",
        "eval",
        "--answers",
        "--docs",
        "knowledge_base",
        "--tests",
        "tests/data/knowledge_base_tests.jsonl",
        "--model",
        "llamacpp:smollm2",
        "--judge",
        "openai:smollm2",
        "--limit",
        "2",
        "--json",
        timeout=600,
        RAG_OPENAI_BASE_URL=llama_server,
        RAG_MAX_NEW_TOKENS="48",  # what is checked is the run and its report, not long answers
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert (summary["n"], summary["model"], summary["judge"]) == (
        2,
        "llamacpp:smollm2",
        "openai:smollm2",
    )
    assert summary["judged"] + summary["unjudged"] == 2
    assert 0.0 <= summary["keyword_recall"] <= 1.0
    for question in summary["questions"]:
        assert question["answer"].strip()
        assert 0 < question["first_text_s"] <= question["total_s"]
        assert set(question["invalid_citations"]) <= set(question["citations"])
    assert summary["first_text_p95_s"] >= summary["first_text_median_s"] > 0
    assert any(line.startswith("total") for line in lines)
    assert "knowledge_base_tests.jsonl answered by llamacpp:smollm2" in result.stdout


def test_eval_answers_cli_names_the_bad_line_of_a_tests_file(tmp_path):
    tests = tmp_path / "tests.jsonl"
    tests.write_text(
        '{"question": "ok?", "keywords": ["k"]}\n{"question": "q?", "answerable": 1}\n'
    )

    result = run_module(
        "rag", "eval", "--answers", "--docs", "knowledge_base", "--tests", str(tests), timeout=120
    )

    assert result.returncode == 2
    assert f'{tests}, line 2: "answerable" must be true or false' in result.stderr


def test_the_evaluate_tab_scores_answers_with_the_chosen_model(ingested_service, tmp_path):
    from rag.ui.evaluate import ANSWERS, EvaluateHandlers

    tests = tmp_path / "one.jsonl"
    tests.write_text(json.dumps({"question": FACTS["md"][2], "keywords": ["24"]}) + "\n")
    handlers = EvaluateHandlers(ingested_service)
    before = ingested_service.store.count()
    steps = []

    status, retrieval, weakest, answers = handlers.run(
        None,
        str(tests),
        None,
        10,
        ANSWERS,
        "llamacpp:smollm2",
        progress=lambda fraction, desc: steps.append(fraction),
    )

    assert "**1 question(s)**" in status and "answered by `llamacpp:smollm2`" in status
    assert retrieval == weakest == []
    assert [row[0] for row in answers] == ["general", "total"] and answers[-1][1] == 1
    assert steps == sorted(steps) and steps[-1] == pytest.approx(1.0)
    assert ingested_service.store.count() == before  # answered from a store of its own
