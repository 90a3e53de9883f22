"""Question plans alone: which questions span documents, their kind and parts (no store)."""

from __future__ import annotations

from collections.abc import Sequence

from rag.retrieval.question import (
    AGGREGATION,
    BRIDGE,
    COMPARISON,
    CONJUNCTION,
    SINGLE,
    plan_question,
)


class Catalog:
    """Documents by the words of their headers, as the lexical index answers it."""

    def __init__(self, headers: dict[str, str]):
        self.headers = headers

    def header_documents(self, terms: Sequence[str]) -> list[str]:
        return sorted(
            source
            for source, header in self.headers.items()
            if all(term in header.lower().split() for term in terms)
        )


ORCHARD = Catalog(
    {
        "leases/Lease with Hilltop Farm for Pressmill.md": "leases lease hilltop farm pressmill",
        "leases/Lease with Riverbend for Pressmill.md": "leases lease riverbend pressmill",
        "leases/Lease with Oakhurst for Cidermaker.md": "leases lease oakhurst cidermaker",
        "staff/Ada Brook.md": "staff ada brook",
        "staff/Tom Reed.md": "staff tom reed",
    }
)


def test_a_question_about_one_thing_is_searched_whole():
    plan = plan_question("What is the boiling point of water at sea level?")

    assert plan.kind == SINGLE
    assert plan.parts == ()
    assert not plan.spans_documents


def test_several_questions_in_one_are_a_conjunction_of_parts():
    plan = plan_question(
        "How tall is the lighthouse, what year was the bridge built, and who designed the dam?"
    )

    assert plan.kind == CONJUNCTION
    assert plan.parts == (
        "How tall is the lighthouse",
        "what year was the bridge built",
        "who designed the dam",
    )
    # Each part's own words: what an answer has one line for.
    assert plan.subjects == ("tall lighthouse", "year bridge built", "designed dam")


def test_a_relative_clause_is_a_bridge_to_what_it_names():
    plan = plan_question("What is the salary of the gardener who planted the maze in 1998?")

    assert plan.kind == BRIDGE
    assert plan.parts == (
        "What is the salary of the gardener",
        "gardener planted the maze in 1998",
    )


def test_where_opens_a_bridge_to_a_place_named_by_what_happened_there():
    plan = plan_question("Who manages the region where the river flooded in 2019?")

    assert plan.kind == BRIDGE
    assert plan.parts == ("Who manages the region", "region the river flooded in 2019")


def test_a_statement_the_question_refers_back_to_is_a_bridge():
    plan = plan_question(
        "The east wing is heated by a special boiler. Which fuel does that boiler burn?"
    )

    assert plan.kind == BRIDGE
    assert plan.parts == (
        "The east wing is heated by a special boiler",
        "Which fuel does that boiler burn",
    )


def test_that_after_a_verb_or_a_preposition_opens_no_bridge():
    assert plan_question("Does the manual say that pumps need oil?").kind == SINGLE
    assert plan_question("How much oil does a pump need in that season?").kind == SINGLE


def test_a_comparison_is_split_into_its_options():
    plan = plan_question("How much water does a rose need compared with a cactus?")

    assert plan.kind == COMPARISON
    assert plan.parts == ("How much water does a rose need", "a cactus")

    between = plan_question("What is the difference between a kiln and a furnace?")
    assert between.kind == COMPARISON
    assert between.parts == ("What is the difference a kiln", "a furnace")

    listed = plan_question("How would I clean a kettle, a toaster and a blender differently?")
    assert listed.parts == ("How would I clean a kettle", "a toaster", "a blender differently")


def test_a_comparison_without_options_gathers_across_documents():
    plan = plan_question("How do the notes' versions of the sourdough recipe differ?")

    assert plan.kind == AGGREGATION
    assert plan.subjects == ("versions sourdough recipe",)


def test_everything_the_documents_hold_about_a_topic_is_an_aggregation():
    for question in (
        "Which notes mention sourdough, and what do they use it for?",
        "Where in the notes does the word 'lattice' come up?",
        "What do the notes say about pruning, everywhere it comes up?",
        "Ferns show up in several notes. What is said about them?",
    ):
        plan = plan_question(question)
        assert plan.kind == AGGREGATION, question
        assert plan.scope == ()

    assert plan_question("Which notes mention sourdough?").subjects == ("sourdough",)


def test_an_aggregation_over_a_kind_of_documents_is_scoped_to_them():
    plan = plan_question("What is the average rent across all Pressmill leases?", ORCHARD)

    assert plan.kind == AGGREGATION
    assert plan.scope == (
        "leases/Lease with Hilltop Farm for Pressmill.md",
        "leases/Lease with Riverbend for Pressmill.md",
    )


def test_how_many_counts_documents_only_when_its_kind_names_them():
    counted = plan_question("How many staff at the orchard earn more than $50,000?", ORCHARD)
    assert counted.kind == AGGREGATION
    assert counted.scope == ("staff/Ada Brook.md", "staff/Tom Reed.md")

    # A number in one document: "how many <noun> does …", or a noun no header has.
    assert plan_question("How many trees does the Hilltop lease cover?", ORCHARD).kind == SINGLE
    assert plan_question("How many trees grow on the hill?", ORCHARD).kind == SINGLE


def test_words_of_a_part_that_only_ask_add_no_part():
    plan = plan_question("Which sauces use butter, and do they agree?")

    assert "do they agree" not in plan.parts


def test_parts_are_capped():
    plan = plan_question("What is A1? What is B2? What is C3? What is D4? What is E5?")

    assert plan.kind == CONJUNCTION
    assert len(plan.parts) == 4


def test_different_that_only_qualifies_a_noun_compares_nothing():
    on_scales = plan_question("How are the ranks fused, since the scores are on different scales?")
    from_greedy = plan_question("How is beam search different from greedy decoding?")
    with_claude = plan_question("Is tool calling any different with Claude?")

    assert on_scales.kind == SINGLE
    assert from_greedy.kind != SINGLE and with_claude.kind != SINGLE


def test_a_part_that_names_nothing_is_searched_with_the_names_before_it():
    recipe = plan_question(
        "What goes into the Hilltop loaf: how is the dough proved and how long is it baked?"
    )
    two_things = plan_question(
        "Who designed the Tower Bridge, and when was the Eiffel Tower built?"
    )

    # "how is the dough proved" alone would find any note on dough; it asks of the Hilltop loaf.
    assert recipe.kind == CONJUNCTION
    assert recipe.parts == (
        "What goes into the Hilltop loaf",
        "Hilltop how is the dough proved",
        "Hilltop how long is it baked",
    )
    # What each part asks of it is still its own words.
    assert recipe.subjects == ("goes into Hilltop loaf", "dough proved", "long baked")
    assert two_things.parts == ("Who designed the Tower Bridge", "when was the Eiffel Tower built")


def test_a_who_did_question_knows_a_text_naming_the_doer():
    founded = plan_question("Who founded the Harbour Trust?")

    assert founded.agent_verb == "founded"
    assert founded.names_agent("The trust was founded by Mara Quill in 1902.")
    assert founded.names_agent("Mara Quill co-founded the trust.")
    assert not founded.names_agent("Founded in 1902, the trust runs the docks.")
    # "Who is …" asks for a person, not for who did something.
    assert plan_question("Who is the harbour master?").agent_verb == ""
