"""Questions that span documents, retrieved on real Chroma with the bundled embedder: each
part's document and each document an aggregation gathers from get a passage within k."""

from __future__ import annotations

import pytest

from rag.app import Retrieved, create_service
from rag.settings import Settings

LIGHTHOUSE = "# Gullrock lighthouse\n\n" + "\n\n".join(
    [
        "## Height\n\nThe Gullrock lighthouse is 47 metres tall; its tower was designed to be "
        "the tallest on the coast.",
        "## Builders\n\nThe Gullrock lighthouse was designed by a harbour board; how tall it "
        "should be was argued for years.",
        "## Lamp\n\nThe lamp of the Gullrock lighthouse was designed to turn every twelve "
        "seconds from its tall tower.",
        "## Visits\n\nVisitors climb the tall Gullrock lighthouse on summer weekends; its stairs "
        "were designed for two abreast.",
        "## Storms\n\nThe great storm of 1953 broke the tall windows of the Gullrock lighthouse, "
        "designed to resist the sea.",
    ]
)
DAM = (
    "# Harrow dam\n\n## History\n\nThe engineer Ines Vall drew the plans for the Harrow wall "
    "in 1931.\n\n## Reservoir\n\nIts reservoir holds drinking water for the valley.\n"
)
MAZE = (
    "# Gardens\n\n## Maze\n\nThe hedge maze behind the west lawn was planted by Ada Brook in "
    "1998.\n\n## Ponds\n\nThe two ponds were dug in 1972 and hold carp.\n"
)
STAFF = {
    "Ada Brook": "Head gardener since 1990. Salary: $41,500 a year.",
    "Tom Reed": "Groundskeeper since 2004. Salary: $36,000 a year.",
}
BAKERY = (
    "# Bakery\n\n## Bread\n\nKnead the dough for ten minutes, then let it rise for an hour."
    "\n\n## Apple loaf\n\nFold chopped apples into the dough before the second rise.\n"
)
RENT_GUIDE = "# Rent guide\n\n" + "\n\n".join(
    f"## Rent rule {i}\n\nThe monthly rent of every Pressmill lease is reviewed each spring; "
    f"the average rent of Pressmill leases rises with the price of apples (rule {i})."
    for i in range(6)
)
LEASES = {
    ("Hilltop Farm", "Pressmill"): "1,200",
    ("Riverbend", "Pressmill"): "950",
    ("Stonegate", "Pressmill"): "800",
    ("Oakhurst", "Cidermaker"): "700",
}


def _lease(name: str, product: str, rent: str) -> str:
    return (
        f"# Lease with {name} for {product}\n\n## Parties\n\nThis lease binds {name} and the "
        f"orchard co-operative for the {product} press.\n\n## Rent\n\nThe monthly rent is "
        f"${rent}, paid on the first day of each month.\n\n## Term\n\nThe lease runs for three "
        "years and renews each spring unless either side objects.\n\n## Upkeep\n\n"
        f"{name} keeps the {product} press clean and oiled; repairs are shared.\n"
    )


@pytest.fixture(scope="module")
def estate(tmp_path_factory, embedder):
    """An estate's notes, one small chunk a section and no widening: one window, one chunk."""
    root = tmp_path_factory.mktemp("estate")
    docs = root / "docs"
    (docs / "leases").mkdir(parents=True)
    (docs / "staff").mkdir()
    for name, text in {
        "lighthouse.md": LIGHTHOUSE,
        "dam.md": DAM,
        "gardens.md": MAZE,
        "bakery.md": BAKERY,
        "rent_guide.md": RENT_GUIDE,
    }.items():
        (docs / name).write_text(text, encoding="utf-8")
    for person, record in STAFF.items():
        (docs / "staff" / f"{person}.md").write_text(f"# {person}\n\n{record}\n", encoding="utf-8")
    for (name, product), rent in LEASES.items():
        path = docs / "leases" / f"Lease with {name} for {product}.md"
        path.write_text(_lease(name, product, rent), encoding="utf-8")
    settings = Settings(
        _env_file=None,
        db_dir=root / "db",
        knowledge_dir=docs,
        chunk_size=200,
        chunk_overlap=0,
        window_chars=0,
        model="extractive:notes",
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    return service


def _sources(passages) -> list[str]:
    return [p.source for p in passages]


def test_each_part_of_a_conjunction_keeps_its_document(estate):
    question = "How tall is the Gullrock lighthouse, and who designed the Harrow dam?"

    assert estate.retriever.plan(question).kind == "conjunction"
    assert sorted(_sources(estate.retrieve(question, 2))) == ["dam.md", "lighthouse.md"]
    # Searched as a whole, the lighthouse's many matching sections take both places.
    assert _sources(estate.retriever.retrieve(question, 2)) == ["lighthouse.md"]


def test_each_option_of_a_comparison_keeps_its_document(estate):
    question = "How tall is the Gullrock lighthouse compared with the Harrow dam?"

    assert estate.retriever.plan(question).kind == "comparison"
    assert sorted(_sources(estate.retrieve(question, 2))) == ["dam.md", "lighthouse.md"]


def test_a_bridge_finds_what_the_relative_clause_names(estate):
    question = "What is the salary of the gardener who planted the hedge maze?"

    assert estate.retriever.plan(question).kind == "bridge"
    sources = _sources(estate.retrieve(question, 3))
    assert "gardens.md" in sources
    assert "staff/Ada Brook.md" in sources


def test_an_aggregation_over_a_kind_of_documents_gets_one_passage_each(estate):
    question = "What is the monthly rent across all Pressmill leases?"
    pressmill = sorted(f"leases/Lease with {n} for {p}.md" for n, p in LEASES if p == "Pressmill")

    plan = estate.retriever.plan(question)
    assert plan.kind == "aggregation"
    assert sorted(plan.scope) == pressmill
    passages = estate.retrieve(question, 3)
    assert sorted(_sources(passages)) == pressmill
    assert all(len(p.chunk_ids) == 1 for p in passages)  # one window each, k in all
    # Searched as a whole, the rent guide's many matching rules take every place.
    assert set(_sources(estate.retriever.retrieve(question, 3))) == {"rent_guide.md"}


def test_an_aggregation_over_a_topic_gets_each_document_naming_it(estate):
    question = "Which notes mention apples, and what do they say?"

    assert estate.retriever.plan(question).kind == "aggregation"
    sources = _sources(estate.retrieve(question, 3))
    assert {"bakery.md", "rent_guide.md"} <= set(sources)
    assert len(sources) == len(set(sources))


def test_splitting_questions_can_be_turned_off(estate):
    estate.retriever.split_questions = False
    try:
        question = "How tall is the Gullrock lighthouse, and who designed the Harrow dam?"
        assert estate.retriever.plan(question).kind == "single"
        assert _sources(estate.retrieve(question, 2)) == ["lighthouse.md"]
    finally:
        estate.retriever.split_questions = True


def test_a_single_question_is_retrieved_as_before(estate):
    question = "How tall is the Gullrock lighthouse?"

    assert estate.retriever.plan(question).kind == "single"
    assert _sources(estate.retrieve(question, 3)) == _sources(
        estate.retriever.retrieve(question, 3)
    )


def test_the_plan_travels_with_the_passages_to_the_answer(estate):
    question = "How tall is the Gullrock lighthouse, and who designed the Harrow dam?"

    events = list(estate.answer_stream(question, k=2))

    retrieved = next(e for e in events if isinstance(e, Retrieved))
    assert retrieved.plan is not None and retrieved.plan.kind == "conjunction"
    assert retrieved.plan.parts == (
        "How tall is the Gullrock lighthouse",
        "who designed the Harrow dam",
    )
    assert sorted(_sources(retrieved.chunks)) == ["dam.md", "lighthouse.md"]


def test_the_context_an_answer_reads_is_what_its_mode_gives_the_answer(estate):
    question = "How tall is the Gullrock lighthouse, and who designed the Harrow dam?"

    quoted = estate.answer_context(question)
    generated = estate.answer_context(question, model="llamacpp:smollm2")

    assert _sources(quoted) == _sources(estate.retrieve(question))  # the top_k passages
    # What the chat model's prompt keeps within its budget: here, every one of them.
    assert [p.n for p in generated] == [p.n for p in quoted]
    assert {"dam.md", "lighthouse.md"} <= set(_sources(generated))
