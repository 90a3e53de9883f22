"""Follow-up questions: what to search for when a question leans on the conversation.

"What is his job title?" alone retrieves nothing useful. The service searches with the
conversation folded in (:func:`conversation_query`) and, when ``rewrite_queries`` is on, with
the chat model's standalone version of the question in front (:func:`rewrite_question`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from rag.core import strip_citations
from rag.llms import ChatModel, GenerationOptions, LLMError, Message

log = logging.getLogger(__name__)

REWRITE_PROMPT = """\
Rewrite the last user question so that it can be understood without the conversation, \
for searching the notes. Keep names and terms. Reply with the question only.

Conversation:
{conversation}

Last question: {question}
Standalone question:"""
# Words of the last answer put into a follow-up's retrieval query: an answer's first words
# usually name what it is about ("Maxine Thompson won it"), which "her" may then refer to.
ANSWER_HINT_WORDS = 30
# A rewrite longer than this many words is a model rambling, not a question.
REWRITE_MAX_WORDS = 40
_REWRITE_LABEL = re.compile(
    r"^(?:(?:user|assistant|question|standalone question|rewritten question)\s*:\s*)+", re.I
)


def conversation_query(question: str, history: Sequence[Message], turns: int) -> str:
    """The retrieval query for a follow-up: the last ``turns`` user questions, the first words
    of the last answer, then this question.

    "What is his job title?" alone retrieves nothing useful; with the previous question
    ("Tell me about Alex Chen") in front, both BM25 and the embedding find the right person.
    The answer matters when only it names the subject ("Who won the award?" "Maxine Thompson
    won it." "What is her salary?").
    """
    if not turns:
        return question
    earlier = [m["content"] for m in history if m.get("role") == "user"][-turns:]
    answers = [m["content"] for m in history if m.get("role") == "assistant"]
    hint = " ".join(strip_citations(answers[-1]).split()[:ANSWER_HINT_WORDS]) if answers else ""
    return " ".join(part for part in [*earlier, hint, question] if part)


def clean_rewrite(text: str) -> str | None:
    """The first line of a model's rewrite without labels or quotes; None if unusable."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = _REWRITE_LABEL.sub("", strip_citations(line)).strip().strip("\"'“”").strip()
    if not line or len(line.split()) > REWRITE_MAX_WORDS:
        return None
    return line


def rewrite_question(question: str, history: Sequence[Message], model: ChatModel) -> str | None:
    """A standalone version of a follow-up, written by the chat model (None on failure)."""
    conversation = "\n".join(f"{m['role']}: {m['content'][:500]}" for m in history[-4:])
    prompt = REWRITE_PROMPT.format(conversation=conversation, question=question)
    try:
        text = "".join(
            model.stream_chat(
                [{"role": "user", "content": prompt}],
                GenerationOptions(temperature=0.0, max_new_tokens=64),
            )
        )
    except LLMError as exc:
        log.warning("query rewrite failed, using the conversation instead: %s", exc)
        return None
    return clean_rewrite(text)
