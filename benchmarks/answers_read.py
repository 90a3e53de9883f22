"""The answers to read as a learner reads them, chosen by the rule in ``answers_read.md``.

Reads the last JSON line of two ``python -m rag eval --answers --json`` runs (the course
notes' tests, InsureLLM's tests) and prints the 40 chosen answers as markdown, each under its
question with a grade to fill in by hand (``--grades FILE``: a JSON object {"C1": "right",
"C2": "partly — why", ...} fills them in and adds the tally)::

    python -m rag eval --answers --docs ../shared/course-notes \
        --tests tests/data/course_notes_tests.jsonl --json > /tmp/course.txt
    python -m rag eval --answers --docs ../shared/eval/insurellm/knowledge-base \
        --tests ../shared/eval/insurellm/tests.jsonl --json > /tmp/insurellm.txt
    python benchmarks/answers_read.py /tmp/course.txt /tmp/insurellm.txt [--grades FILE]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

GRADES = ("right", "partly", "wrong", "does not answer")
#: InsureLLM's tests file has 75 lines; 20 are read, spread evenly over it.
INSURELLM_LINES = 75
SAMPLE = 20


def insurellm_lines() -> list[int]:
    """Lines 1 + ⌊k·75/20⌋, k = 0…19 (1-based)."""
    return [1 + (k * INSURELLM_LINES) // SAMPLE for k in range(SAMPLE)]


def last_json(path: Path) -> dict:
    lines = [line for line in path.read_text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def sample(course: dict, insurellm: dict) -> list[tuple[str, dict]]:
    """(label, question's JSON) of the 40 answers read: C1…C20, then I<line>."""
    chosen = [(f"C{i}", q) for i, q in enumerate(course["questions"][:SAMPLE], start=1)]
    return chosen + [(f"I{n}", insurellm["questions"][n - 1]) for n in insurellm_lines()]


def grade_of(note: str) -> str:
    """The grade of a note "partly — why"."""
    return note.split(" — ")[0].strip()


def markdown(chosen: list[tuple[str, dict]], grades: dict[str, str]) -> str:
    out = []
    for label, question in chosen:
        grade = grades.get(label, "?")  # "partly — the answer comes third"
        answer = "\n".join(f"    {line}" for line in question["answer"].splitlines())
        out.append(f"**{label}. {question['question']}** — *{grade}*\n\n{answer}\n")
    if grades:
        tally = Counter(grade_of(grades.get(label, "?")) for label, _ in chosen)
        out.append(
            "Tally: " + ", ".join(f"{g} {tally[g]}/{len(chosen)}" for g in GRADES if tally[g])
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("course", type=Path, help="eval --answers --json output, course notes")
    parser.add_argument("insurellm", type=Path, help="the same for InsureLLM")
    parser.add_argument("--grades", type=Path, help='JSON {"C1": "right", ...}')
    args = parser.parse_args()
    grades = json.loads(args.grades.read_text()) if args.grades else {}
    unknown = {grade_of(g) for g in grades.values()} - set(GRADES)
    if unknown:
        raise SystemExit(f"unknown grades {sorted(unknown)}; use {GRADES}")
    print(markdown(sample(last_json(args.course), last_json(args.insurellm)), grades))


if __name__ == "__main__":
    main()
