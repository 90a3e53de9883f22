"""The LLM-engineering course's LLM-as-judge: an answer scored against the reference answer.

Any chat model of the registry can judge (``openai:gpt-4.1-mini``, ``ollama:llama3.2``, a
local ``llamacpp:`` model). It is asked for structured output: the scores as a JSON object of
a fixed schema, which backends that can enforce it do (OpenAI-compatible servers, llama.cpp,
Ollama). What comes back is checked all the same: a reply without three scores from 1 to 5
(small models often write anything) leaves the answer *unjudged*, counted as such, never
given a score it did not get.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from rag.llms import ChatModel, GenerationOptions, LLMError

log = logging.getLogger(__name__)

DIMENSIONS = ("accuracy", "completeness", "relevance")
_SCORE = {"type": "integer", "enum": [1, 2, 3, 4, 5]}
#: The reply asked for. Scores come before the feedback, so that a reply cut off by the token
#: limit still holds them.
JUDGEMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "accuracy": _SCORE,
        "completeness": _SCORE,
        "relevance": _SCORE,
        "feedback": {"type": "string"},
    },
    "required": [*DIMENSIONS, "feedback"],
    "additionalProperties": False,
}
# The course's rubric, as its judge is asked.
JUDGE_SYSTEM = """\
You are an expert evaluator assessing the quality of answers. Evaluate the generated answer by \
comparing it to the reference answer. Only give 5/5 scores for perfect answers."""
JUDGE_PROMPT = """\
Question:
{question}

Generated answer:
{answer}

Reference answer:
{reference}

Evaluate the generated answer on three dimensions, each from 1 (very poor) to 5 (ideal):
1. accuracy: how factually correct it is compared to the reference answer. A wrong answer \
must score 1.
2. completeness: how much of the reference answer's information it gives. 5 only if it \
gives all of it.
3. relevance: how directly it answers the question. 5 only if it answers it and adds nothing \
else.
Reply with a JSON object only, e.g.
{{"accuracy": 4, "completeness": 3, "relevance": 5, "feedback": "one or two sentences"}}"""
# Enough for the scores and a short feedback; the scores come first.
JUDGE_MAX_TOKENS = 200
_LOOSE_SCORE = {name: re.compile(rf'"?{name}"?\s*[:=]\s*"?([1-5])\b', re.I) for name in DIMENSIONS}


@dataclass(frozen=True)
class Judgement:
    accuracy: int
    completeness: int
    relevance: int
    feedback: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "completeness": self.completeness,
            "relevance": self.relevance,
            "feedback": self.feedback,
        }


def _score(value: Any) -> int | None:
    """A score of 1 to 5 (also written "4" or 4.0); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= 5 else None


def _json_objects(text: str):
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            yield value


def parse_judgement(text: str) -> Judgement | None:
    """The judge's scores from its reply, or None when it holds no three scores from 1 to 5.

    The first JSON object with the three scores wins (models wrap it in prose or a code fence);
    failing that, ``accuracy: 4``-style pairs, as a reply cut off inside its feedback has them.
    """
    for row in _json_objects(text):
        lowered = {str(key).lower(): value for key, value in row.items()}
        scores = [_score(lowered.get(name)) for name in DIMENSIONS]
        if None not in scores:
            feedback = lowered.get("feedback")
            return Judgement(*scores, feedback=feedback if isinstance(feedback, str) else "")
    loose = [_LOOSE_SCORE[name].search(text) for name in DIMENSIONS]
    if all(loose):
        return Judgement(*(int(match.group(1)) for match in loose))
    return None


class AnswerJudge:
    """Scores answers with a chat model; ``judge`` returns None for a reply that holds none."""

    def __init__(self, model: ChatModel):
        self.model = model
        self.name = model.name

    def judge(self, question: str, answer: str, reference: str) -> tuple[Judgement | None, str]:
        """(the judgement or None, the model's reply as it came: kept to show what went wrong)."""
        messages = [
            {"role": "system", "content": JUDGE_SYSTEM},
            {
                "role": "user",
                "content": JUDGE_PROMPT.format(
                    question=question, answer=answer or "(no answer)", reference=reference
                ),
            },
        ]
        options = GenerationOptions(0.0, JUDGE_MAX_TOKENS, json_schema=JUDGEMENT_SCHEMA)
        try:
            reply = "".join(self.model.stream_chat(messages, options))
        except LLMError as exc:
            log.warning("the judge %s failed on %r: %s", self.name, question, exc)
            return None, f"(failed: {exc})"
        return parse_judgement(reply), reply
