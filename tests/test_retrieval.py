"""Retrieval on real Chroma with the bundled embedder: sections, hybrid scoring, passages, follow-ups."""

from __future__ import annotations

import shutil

import pytest
from langchain_core.documents import Document

from devtools.paths import SHARED
from devtools.sample_documents import FACTS
from ingest.chunking import markdown_sections, split_documents
from rag.app import Retrieved
from rag.core import HEADER_SEPARATOR, search_terms

EMPLOYEES = SHARED / "eval" / "insurellm" / "knowledge-base" / "employees"
# A third of the insurellm employee records, chosen so that people share first or last names.
PEOPLE = [
    "Alex Chen", "Alex Harper", "Alex Thomson", "Robert Chen", "Maxine Thompson", "Maya Thompson",
    "Priya Sharma", "Emily Carter", "Emily Tran", "James Wilson", "Jennifer Adams", "Samuel Trenton",
]  # fmt: skip

GUIDE = """# Deployment guide

## Setup

Install the tools first.

```bash
# a comment in a code block, not a heading
pip install quillfeather
```

## Ports

- The Quillfeather gateway listens on port 7311.
    - Its admin console uses port 7312.

## Troubleshooting

Restart the gateway when the console shows a red banner.
"""


def _markdown(text: str) -> list[Document]:
    return [Document(page_content=text, metadata={"format": "markdown"})]


def test_sections_keep_their_headings_and_formatting():
    sections = markdown_sections(GUIDE)

    assert [s.path for s in sections] == [
        ["Deployment guide", "Setup"],
        ["Deployment guide", "Ports"],
        ["Deployment guide", "Troubleshooting"],
    ]
    # The bare title joins the first section; a '#' line inside a code block stays code.
    assert sections[0].text.startswith("# Deployment guide\n\n## Setup\n")
    assert "# a comment in a code block, not a heading" in sections[0].text
    assert "\n    - Its admin console uses port 7312." in sections[1].text


def test_chunks_are_deterministic_and_carry_what_ingestion_needs():
    def chunks():
        return split_documents(
            _markdown(GUIDE + "\n## Reference\n\n" + "A long paragraph of reference. " * 40),
            source="ops/deployment_guide.md",
            content_hash="f" * 64,
            chunk_size=300,
            chunk_overlap=30,
        )

    first, again = chunks(), chunks()

    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    for index, chunk in enumerate(first):
        assert chunk.metadata["chunk_index"] == index
        assert chunk.metadata["n_chunks"] == len(first)
        assert chunk.metadata["source"] == "ops/deployment_guide.md"
        assert chunk.metadata["title"] == "Deployment guide"
        assert chunk.metadata["content_hash"] == "f" * 64
    assert first[1].text.startswith("ops/deployment guide | Deployment guide > Ports\n\n## Ports")
    reference = [c for c in first if c.metadata["section"] == "Deployment guide > Reference"]
    assert len(reference) > 2  # an oversized section is split to size, all under its heading


def test_tokens_fold_plurals_and_drop_stop_words():
    assert search_terms("What are the policies of the contracts?") == ["policy", "contract"]
    assert search_terms("Boxes, classes and 7 watches") == ["box", "class", "7", "watch"]
    assert search_terms("Chen's code LF-2025-E-0087") == ["chen", "code", "lf", "2025", "0087"]


@pytest.fixture
def guide_service(make_service, tmp_path):
    """A store with the guide (one chunk a section) and two unrelated notes."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deployment_guide.md").write_text(GUIDE, encoding="utf-8")
    (docs / "cooking.md").write_text(
        "# Cooking\n\n## Bread\n\nKnead the dough for ten minutes, then let it rise.\n",
        encoding="utf-8",
    )
    (docs / "gardening.md").write_text(
        "# Garden\n\n## Roses\n\nPrune roses in late winter; code ZX-4471-Q marks the bed.\n",
        encoding="utf-8",
    )
    service = make_service(knowledge_dir=docs, chunk_size=200, chunk_overlap=0)
    service.ingest_knowledge_dir()
    return service


def test_a_hit_is_widened_with_its_neighbours_into_one_passage(guide_service):
    passages = guide_service.retrieve("Which port does the Quillfeather gateway listen on?", 3)

    best = passages[0]
    assert best.source == "deployment_guide.md"
    assert best.metadata["section"] == "Deployment guide > Ports"
    # The Ports chunk and the sections around it, in document order, as one passage.
    assert len(best.chunk_ids) == 3
    body = best.body
    assert body.index("## Setup") < body.index("port 7311") < body.index("## Troubleshooting")
    # No chunk is sent twice.
    ids = [i for p in passages for i in p.chunk_ids]
    assert len(ids) == len(set(ids))
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))


def test_without_a_window_each_passage_is_one_chunk(guide_service):
    guide_service.retriever.window_chars = 0
    guide_service.retriever.merge_documents = False

    passages = guide_service.retrieve("Which port does the Quillfeather gateway listen on?", 3)

    assert all(len(p.chunk_ids) == 1 for p in passages)
    assert "7311" in passages[0].body and "## Setup" not in passages[0].body


PROTOCOL = """# Lab handbook

## Arrival

The zebrafish protocol starts with a logbook entry at the door.

## Bread

Knead the dough for ten minutes, then let it rise.

## Roses

Prune roses in late winter.

## Departure

The zebrafish protocol ends when the tanks are sealed.
"""


def test_the_windows_of_one_document_are_one_passage(make_service, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lab.md").write_text(PROTOCOL, encoding="utf-8")
    (docs / "other.md").write_text("# Other\n\nNothing about fish here.\n", encoding="utf-8")
    service = make_service(knowledge_dir=docs, chunk_size=100, chunk_overlap=0)
    service.ingest_knowledge_dir()
    service.retriever.window_chars = 0  # each hit alone: Arrival and Departure, far apart

    passages = service.retrieve("When does the zebrafish protocol start and end?", 2)

    assert [p.source for p in passages] == ["lab.md"]
    lab = passages[0]
    # Two sections: the header names the document, each excerpt starts with its heading.
    assert lab.text.startswith("lab" + HEADER_SEPARATOR + "# Lab handbook\n\n## Arrival")
    assert lab.body.index("starts with a logbook") < lab.body.index("[…]")
    assert lab.body.index("[…]") < lab.body.index("ends when the tanks")
    assert "Knead" not in lab.body and len(lab.chunk_ids) == 2
    assert lab.metadata["section"] == "Lab handbook > Arrival; Lab handbook > Departure"


def test_windows_that_touch_read_on_without_a_gap(guide_service):
    guide_service.retriever.window_chars = 0

    passages = guide_service.retrieve("Quillfeather gateway port, admin console, red banner", 3)

    guide = [p for p in passages if p.source == "deployment_guide.md"]
    assert len(guide) == 1 and len(guide[0].chunk_ids) >= 2
    body = guide[0].body
    assert "[…]" not in body and body.index("port 7311") < body.index("red banner")


def test_an_exact_code_is_found_by_its_keywords(guide_service):
    passages = guide_service.retrieve("ZX-4471-Q", 1)

    assert passages[0].source == "gardening.md"


def test_a_pdf_passage_stays_on_its_page(ingested_service):
    name, _, question = FACTS["pdf"]

    passages = ingested_service.retrieve(question, 5)

    pdf = next(p for p in passages if p.source == name)
    assert pdf.metadata["page"] == 2
    assert "3 bits" in pdf.body and "page one" not in pdf.body


# --- follow-ups ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def employees_service(tmp_path_factory, embedder):
    """A store of insurellm employee records: several people share a first or last name."""
    if not EMPLOYEES.is_dir():
        pytest.skip("the insurellm knowledge base is absent: ../shared/eval/insurellm is needed")
    from rag.app import create_service
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("employees")
    folder = root / "docs" / "employees"
    folder.mkdir(parents=True)
    for person in PEOPLE:
        shutil.copy(EMPLOYEES / f"{person}.md", folder)
    settings = Settings(
        _env_file=None, db_dir=root / "db", knowledge_dir=root / "docs", max_new_tokens=8
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    return service


ALEX_CHEN = "employees/Alex Chen.md"


def _follow_up_sources(service, asked: str, answered: str, question: str) -> list[str]:
    """Sources for ``question`` after one exchange, through the chat's own query building."""
    history = [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    query = service.retrieval_query(question, history)
    return [p.source for p in service.retrieve(query, 3, question=question)]


def test_a_follow_up_retrieves_for_the_conversation(employees_service):
    question = "What is his job title?"

    alone = [p.source for p in employees_service.retrieve(question, 3)]
    followed = _follow_up_sources(
        employees_service, "Tell me about Alex Chen", "He works on the backend team [1].", question
    )

    assert ALEX_CHEN not in alone  # the question by itself names nobody
    assert followed[0] == ALEX_CHEN


def test_a_follow_up_can_take_its_subject_from_the_last_answer(employees_service):
    sources = _follow_up_sources(
        employees_service,
        "Who won the IIOTY award in 2023?",
        "Maxine Thompson won it [1].",
        "What is her current salary?",
    )

    assert sources[0] == "employees/Maxine Thompson.md"


def test_a_new_subject_in_the_follow_up_wins_over_the_old_one(employees_service):
    sources = _follow_up_sources(
        employees_service,
        "What is Alex Chen's salary?",
        "$115,000 [1].",
        "And what about Priya Sharma?",
    )

    assert sources[0] == "employees/Priya Sharma.md"


def test_a_rewritten_follow_up_is_searched_and_shown(employees_service):
    """The real bundled SmolLM2 rewrites; the 135M model is weak, so only the plumbing is checked."""
    settings = employees_service.settings
    employees_service.settings = settings.model_copy(update={"rewrite_queries": True})
    history = [
        {"role": "user", "content": "Tell me about Alex Chen"},
        {"role": "assistant", "content": "He works on the backend team [1]."},
    ]
    question = "What is his job title?"
    try:
        stream = employees_service.answer_stream(question, history, model="llamacpp:smollm2")
        retrieved = next(stream)
        stream.close()  # the sources are all this test needs; no answer is generated
    finally:
        employees_service.settings = settings

    assert isinstance(retrieved, Retrieved)
    assert retrieved.rewritten and retrieved.rewritten.strip()
    assert retrieved.query.startswith(retrieved.rewritten)
    searched = employees_service.retrieve(retrieved.query, question=question)
    assert [p.id for p in retrieved.chunks] == [p.id for p in searched][: len(retrieved.chunks)]
    assert ALEX_CHEN in [p.source for p in retrieved.chunks]


def test_who_did_something_puts_the_text_naming_the_doer_first(make_service, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "overview.md").write_text(
        "# Overview of the Harbour Trust\n\nFounded in 1902, the Harbour Trust runs the docks, "
        "the ferries and the lighthouses of the bay.\n",
        encoding="utf-8",
    )
    (docs / "history.md").write_text(
        "# History of the Harbour Trust\n\nThe Harbour Trust was founded by Mara Quill, a ferry "
        "captain, after the winter the bay froze.\n",
        encoding="utf-8",
    )
    service = make_service(knowledge_dir=docs)
    service.ingest_knowledge_dir()
    question = "Who founded the Harbour Trust?"

    assert service.retriever.plan(question).agent_verb == "founded"
    assert service.retrieve(question, 2)[0].source == "history.md"
