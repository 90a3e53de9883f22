"""A line computed from the lines above it (a count, a total, an average), never a quote: it
is written only when every figure is shown on a cited line of its own, and its arithmetic is
checked against those lines."""

from __future__ import annotations

import pytest

from rag.answer.arithmetic import (
    AVERAGE,
    COMPUTED,
    COUNT,
    TOTAL,
    check_computed,
    computed_line,
)
from rag.evaluation.answer_metrics import unsupported_numbers

LINES = [
    "Roadway — Payment: $2,500/month. [1]",
    "TechDrive — Payment: $3,000/month. [2]",
    "Velocity — Payment: $4,000 per month. [3]",
]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (AVERAGE, f"{COMPUTED} average = ($2,500 + $3,000 + $4,000) / 3 = $3,166.67."),
        (TOTAL, f"{COMPUTED} total = $2,500 + $3,000 + $4,000 = $9,500."),
        (COUNT, f"{COMPUTED} count = 3."),
    ],
)
def test_a_computed_line_shows_its_working_and_its_arithmetic_holds(operation, expected):
    line = computed_line(LINES, operation, money=True)

    assert line == expected
    (check,) = check_computed("\n".join([*LINES, line]))
    assert check.holds and check.operation == operation


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (f"{COMPUTED} total = $2,500 + $3,000 + $4,000 = $9,000.", "the total is $9,500"),
        (f"{COMPUTED} total = $2,500 + $3,500 = $6,000.", "$3,500 is on no line above"),
        (f"{COMPUTED} total = $2,500 + $2,500 = $5,000.", "$2,500 is on no line above"),
        (f"{COMPUTED} average = ($2,500 + $3,000) / 3 = $1,833.33.", "divides by another"),
        (f"{COMPUTED} count = 2.", "there are 3 cited lines above"),
    ],
)
def test_a_computed_line_that_does_not_add_up_is_caught_with_why(line, reason):
    (check,) = check_computed("\n".join([*LINES, line]))

    assert not check.holds and reason in check.reason


def test_no_line_is_computed_when_a_line_holds_several_amounts_or_none():
    several = [*LINES[:2], "DriveSmart — $18,000 a month, then $19,500. [4]"]
    assert computed_line(several, TOTAL, money=True) is None
    assert computed_line([*LINES[:2], "Velocity — pays monthly. [3]"], AVERAGE, money=True) is None


def test_a_question_about_all_of_something_gets_a_line_per_document_and_their_average(
    make_service, tmp_path
):
    # Through the service: the retriever plans the question with the store's catalog (its
    # scope: the contracts), and the answer gives each a line, then their average.
    fees = {"Acme Mutual": "$4,000", "Birch Life": "$2,000", "Cedar Home": "$3,000"}
    docs = tmp_path / "docs" / "contracts"
    docs.mkdir(parents=True)
    for client, fee in fees.items():
        (docs / f"Contract with {client} for Widgetllm.md").write_text(
            f"# Contract with {client} for Widgetllm\n\n## Terms\n\n"
            "1. **Duration:** 24 months from the contract date.\n"
            f"2. **Payment:** {client} pays a monthly fee of {fee} for the Standard Tier.\n",
            encoding="utf-8",
        )
    service = make_service(knowledge_dir=tmp_path / "docs")
    service.ingest_knowledge_dir()

    finished = service.ask(
        "What is the average monthly fee across all Widgetllm contracts?", model="extractive:notes"
    )

    lines = finished.answer.splitlines()
    assert len(lines) == 4, finished.answer
    shown = sorted(lines[:3])
    for (client, fee), line in zip(sorted(fees.items()), shown, strict=True):
        assert client in line and fee in line
    assert lines[-1].startswith(f"{COMPUTED} average = (")
    assert lines[-1].endswith(") / 3 = $3,000.")
    (check,) = check_computed(finished.answer)
    assert check.holds
    assert unsupported_numbers(finished.answer, [c.text for c in finished.chunks]) == []
