"""The prompt fits the model's window, and sources stay within their own token budget."""

from __future__ import annotations

from rag.answer import build_prompt
from rag.core import Passage
from rag.retrieval import plan_question


def count(text: str) -> int:
    return len(text.split())


def chunks(n: int, words: int) -> list[Passage]:
    body = " ".join(["word"] * words)
    return [
        Passage(i, f"c{i}", f"doc | s\n\n{body}", {"source": f"d{i}.md"}, 1.0, passage=body)
        for i in range(1, n + 1)
    ]


def test_sources_fill_the_window_in_rank_order_and_the_last_is_shortened():
    prompt = build_prompt(
        "q?", chunks(10, 300), [], count_tokens=count, context_window=1500, max_new_tokens=200
    )
    assert [c.n for c in prompt.chunks] == list(range(1, len(prompt.chunks) + 1))
    assert 2 <= len(prompt.chunks) < 10
    assert prompt.prompt_tokens <= 1500 - 200


def test_source_budget_caps_the_prompt_below_the_window():
    roomy = build_prompt(
        "q?", chunks(10, 300), [], count_tokens=count, context_window=8192, max_new_tokens=200
    )
    capped = build_prompt(
        "q?",
        chunks(10, 300),
        [],
        count_tokens=count,
        context_window=8192,
        max_new_tokens=200,
        max_source_tokens=700,
    )
    assert len(capped.chunks) < len(roomy.chunks)
    assert capped.prompt_tokens <= 700 + 100  # the budget plus the instructions and question


def test_history_keeps_the_latest_turns_within_its_cap_even_in_a_huge_window():
    history = [
        {"role": role, "content": f"turn{i} " + " ".join(["word"] * 99)}
        for i, role in zip(range(40), ["user", "assistant"] * 20, strict=True)
    ]  # 40 turns of 100 tokens

    prompt = build_prompt(
        "q?",
        chunks(2, 50),
        history,
        count_tokens=count,
        context_window=1_000_000,
        max_new_tokens=200,
        max_history_tokens=450,
    )

    kept = [m["content"].split()[0] for m in prompt.messages[1:-1]]
    assert kept == ["turn36", "turn37", "turn38", "turn39"]  # the latest 4 fit in 450
    assert prompt.messages[-1] == {"role": "user", "content": "q?"}


def test_a_question_spanning_documents_lists_its_parts_and_keeps_every_document():
    question = "How tall is the lighthouse, and who designed the dam?"
    plan = plan_question(question)
    sources = chunks(4, 300)  # 4 x 300 words in a 700-word budget: rank order keeps 2 or 3

    ranked = build_prompt(
        question, sources, [], count_tokens=count, context_window=8192, max_new_tokens=200,
        max_source_tokens=700,
    )  # fmt: skip
    spanning = build_prompt(
        question, sources, [], count_tokens=count, context_window=8192, max_new_tokens=200,
        max_source_tokens=700, plan=plan,
    )  # fmt: skip

    assert len(ranked.chunks) < 4
    assert [c.n for c in spanning.chunks] == [1, 2, 3, 4]  # each shortened to a fair share
    system = spanning.messages[0]["content"]
    assert "- How tall is the lighthouse\n- who designed the dam\n" in system
    assert system.index("who designed the dam") < system.index("Sources:")
    assert all(f"[{n}] d{n}.md" in system for n in range(1, 5))
    assert spanning.prompt_tokens <= 700 + 150  # the budget plus instructions, parts, question
    assert "join" not in ranked.messages[0]["content"]


def test_a_short_source_leaves_its_share_to_the_others():
    body = " ".join(["word"] * 20)
    short = Passage(1, "c1", f"doc | s\n\n{body}", {"source": "d1.md"}, 1.0, passage=body)
    sources = [short, *chunks(3, 400)[1:]]

    prompt = build_prompt(
        "What do the notes say about words?", sources, [], count_tokens=count,
        context_window=8192, max_new_tokens=200, max_source_tokens=620,
        plan=plan_question("What do the notes say about words?"),
    )  # fmt: skip

    system = prompt.messages[0]["content"]
    assert body in system  # whole
    assert "one line per source" in system
    lengths = [len(block.split()) for block in system.split("Sources:")[1].split("\n\n[")]
    assert max(lengths[1:]) - min(lengths[1:]) <= 2  # the long ones share the rest evenly
    assert sum(lengths) > 560  # and use it
