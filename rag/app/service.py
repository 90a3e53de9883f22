"""The RAG service: retrieve for the conversation, prompt, stream the answer with its sources.

The CLI and the web app are thin faces over :class:`RagService`, built by
:func:`create_service` from a :class:`~rag.settings.Settings` (tests pass their own).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.pipeline import Ingestor, IngestReport, ProgressCallback
from rag.answer import (
    Asks,
    ClaimChecker,
    FittedPrompt,
    Scored,
    answer_from,
    build_prompt,
    candidates,
    is_claim,
    is_extractive,
    not_found_answer,
    read_question,
    score_candidates,
    stop_repeating,
    trim_loop,
    unknown_names,
    verify,
)
from rag.app.library import Library
from rag.app.model_fetch import ModelFetch
from rag.app.startup import StartupIngest
from rag.core import (
    HEADING,
    Claim,
    NotReady,
    Passage,
    UserError,
    not_covered,
    split_sentences,
    strip_citations,
)
from rag.embedding import Embedder, SentenceVectors, embedder_for
from rag.llms import (
    ChatModel,
    GenerationOptions,
    LLMError,
    Message,
    PullProgress,
    create_chat_model,
    pull_model,
)
from rag.retrieval import HybridRetriever, QuestionPlan, conversation_query, rewrite_question
from rag.settings import Settings
from rag.store import ChunkStore, open_store

log = logging.getLogger(__name__)

# Weight of a follow-up question on its own, added to its conversation's: a new subject in the
# question ("And what about Priya Sharma?") then outweighs the subject of earlier turns.
QUESTION_WEIGHT = 0.5
# The answer when the store holds nothing to search: no model is asked to answer from nothing.
NO_NOTES = not_covered(
    "the store holds no documents yet. Ingest a folder (`python -m ingest`) or upload files "
    "in the Documents tab."
)


# --- what an answer stream yields ------------------------------------------------------------
@dataclass
class Retrieved:
    """The sources, sent before the first token so a UI can show them at once."""

    #: What was searched for: the question, with its conversation for a follow-up.
    query: str
    chunks: list[Passage]
    #: The chat model's standalone version of a follow-up, when rewriting is on (in ``query``).
    rewritten: str | None = None
    #: What the question asks for: its kind and parts (:mod:`rag.retrieval.question`); the
    #: passages hold the documents it needs, one passage each.
    plan: QuestionPlan | None = None


@dataclass
class Token:
    text: str


@dataclass
class Finished:
    answer: str
    model: str
    chunks: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)
    #: The answer sentence by sentence, each with the sources it cites and whether they hold it.
    claims: list[Claim] = field(default_factory=list)
    #: True when retrieval found nothing relevant enough and no model was asked.
    not_found: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "sources": [c.as_dict() for c in self.chunks],
            "model": self.model,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            "claims": [c.as_dict() for c in self.claims],
            "not_found": self.not_found,
        }


@dataclass
class CheckedText:
    """A text checked sentence by sentence against the notes (:meth:`RagService.check_text`)."""

    #: One per sentence that states something, in order; ``sources`` and evidence number the
    #: passages below.
    claims: list[Claim]
    #: Every passage a sentence was checked against, numbered [1], [2], ... once each.
    passages: list[Passage]

    def as_dict(self) -> dict[str, Any]:
        """What ``python -m rag check --json`` prints: each claim's text, verdict, whether it
        is supported, the sources it was found in and the evidence."""
        keys = ("text", "verdict", "supported", "sources", "evidence")
        return {"claims": [{k: c.as_dict()[k] for k in keys} for c in self.claims]}


# PullProgress comes first, only while a model is being downloaded.
AnswerEvent = PullProgress | Retrieved | Token | Finished


class RagService:
    def __init__(self, settings: Settings, store: ChunkStore, embedder: Embedder):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = HybridRetriever.from_settings(store, embedder, settings)
        self.ingestor = Ingestor.from_settings(settings, store, lambda: embedder)
        #: The documents: listed, uploaded, deleted and re-ingested through here.
        self.library = Library(settings, self.ingestor)
        self.sentence_vectors = SentenceVectors(embedder)
        self._models: dict[str, ChatModel] = {}
        self._models_lock = threading.Lock()
        #: The ingestion of the knowledge folder started with the app, if any.
        self.startup: StartupIngest | None = None
        #: The download of the configured chat model started with the app, if any.
        self.model_fetch: ModelFetch | None = None
        # (store generation, (documents, chunks)): the counts are read again only after a change.
        self._library_size: tuple[Any, tuple[int, int]] | None = None

    # --- models -----------------------------------------------------------------------------
    def chat_model(self, name: str | None = None) -> ChatModel:
        """The chat model called ``name`` (default: the configured one), loaded once."""
        name = name or self.settings.model
        if is_extractive(name):
            raise UserError(
                f"{name} quotes the notes and writes no text; choose a language model "
                "(e.g. llamacpp:smollm2) for this."
            )
        with self._models_lock:
            if name not in self._models:
                self._models[name] = create_chat_model(name, self.settings)
            return self._models[name]

    def fetch_model(self, name: str | None = None) -> Iterator[PullProgress]:
        """Download the model first if it isn't here (a Hub GGUF, an Ollama model), with
        progress; nothing for a model loaded already or one that needs no download. Closing
        the generator cancels the download."""
        name = name or self.settings.model
        if is_extractive(name) or name in self._models:
            return
        downloading = False
        for event in pull_model(name, self.settings):
            downloading = downloading or not event.location  # a model here says only where
            if downloading:
                yield event

    def start_fetching_model(self) -> ModelFetch:
        """Download the configured chat model in the background (at the app's start) if it
        isn't here; until it is, questions for it are answered by another (:mod:`model_fetch`)."""
        self.model_fetch = ModelFetch(self.settings.model, self.fetch_model).start()
        return self.model_fetch

    # --- documents ----------------------------------------------------------------------------
    def ingest_knowledge_dir(self, progress: ProgressCallback | None = None) -> IngestReport:
        return self.library.ingest_knowledge_dir(progress)

    def library_size(self) -> tuple[int, int]:
        """(documents, chunks) in the store. Counted by the store's catalog, again only when
        the store has changed since (the status line asks after each answer)."""
        generation = self.store.generation()
        cached = self._library_size
        if cached is not None and cached[0] == generation:
            return cached[1]
        size = (self.store.document_count(), generation[0])
        self._library_size = (generation, size)
        return size

    def start_ingesting_knowledge_dir(self) -> StartupIngest | None:
        """Bring the knowledge folder into the store in the background (at the app's start);
        until that is done, questions wait for it (:meth:`answer_stream`)."""
        if not self.settings.knowledge_dir.is_dir():
            log.warning("no knowledge folder at %s: nothing to ingest", self.settings.knowledge_dir)
            return None
        self.startup = StartupIngest(self.ingest_knowledge_dir).start()
        return self.startup

    def watch_store(self) -> None:
        """For a long-running app: reopen the store in the background when another process
        changes it (``store_watch_seconds``), so questions find it loaded."""
        self.store.watch(self.settings.store_watch_seconds)

    def _wait_for_startup(self) -> None:
        startup = self.startup
        if startup is not None and not startup.wait(self.settings.startup_wait_s):
            raise NotReady(f"{startup.describe()} Ask again in a moment.")

    # --- answering ----------------------------------------------------------------------------
    def retrieval_query(
        self, question: str, history: Sequence[Message], model: ChatModel | None = None
    ) -> str:
        return self.plan_query(question, history, model)[0]

    def plan_query(
        self, question: str, history: Sequence[Message], model: ChatModel | None = None
    ) -> tuple[str, str | None]:
        """(what to search for, the model's rewrite of the question or None).

        A follow-up searches with its conversation (:mod:`rag.retrieval.follow_up`). With
        ``rewrite_queries`` the model's standalone question goes in front of that: a good
        rewrite resolves "he" and "it", and a poor one (small models often answer instead of
        rewriting) can't lose the conversation's subject.
        """
        query = conversation_query(question, history, self.settings.history_turns)
        if history and self.settings.rewrite_queries and model is not None:
            rewritten = rewrite_question(question, history, model)
            if rewritten:
                return f"{rewritten} {query}", rewritten
        return query, None

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        *,
        question: str | None = None,
        plan: QuestionPlan | None = None,
    ) -> list[Passage]:
        """Passages for ``query``; ``question``: a follow-up on its own, weighed in as well.
        ``plan``: what the question asks for (default: :meth:`HybridRetriever.plan` of the
        question, or of the query when there is no other question)."""
        extra = [(question, QUESTION_WEIGHT)] if question and question != query else []
        plan = plan or self.retriever.plan(question or query)
        return self.retriever.retrieve(query, k or self.settings.top_k, extra=extra, plan=plan)

    def answer_stream(
        self,
        question: str,
        history: Sequence[Message] = (),
        *,
        model: str | None = None,
        k: int | None = None,
        options: GenerationOptions | None = None,
    ) -> Iterator[AnswerEvent]:
        """Yield :class:`Retrieved`, then :class:`Token` pieces, then :class:`Finished`; before
        them :class:`PullProgress` while a model not downloaded yet is being downloaded.

        Raises :class:`~rag.core.UserError` for a question it can't take, :class:`NotReady`
        while the notes are being ingested, and the backends' errors (:class:`LLMError`,
        :class:`StoreError`): each with a message meant for the user.
        """
        question = question.strip()
        if not question:
            raise UserError("Ask a question first.")
        if len(question) > self.settings.max_message_chars:
            raise UserError(
                f"The message is {len(question)} characters long; the limit is "
                f"{self.settings.max_message_chars}. Shorten it."
            )
        options = options or GenerationOptions(
            self.settings.temperature, self.settings.max_new_tokens
        )
        name = model or self.settings.model
        if self.model_fetch is not None:  # a model still downloading: another answers
            name = self.model_fetch.answering_model(name)
        extractive = is_extractive(name)
        yield from self.fetch_model(name)
        started = time.perf_counter()
        self._wait_for_startup()
        if self.store.count() == 0:  # a model would answer from nothing but itself
            yield Retrieved(question, [])
            yield Token(NO_NOTES)
            yield Finished(NO_NOTES, name, [], not_found=True)
            return
        chat_model = None if extractive else self.chat_model(name)
        loaded = time.perf_counter()
        query, rewritten = self.plan_query(question, history, chat_model)
        plan = self.retriever.plan(question)
        chunks = self.retrieve(query, k, question=question if history else None, plan=plan)
        # What the passages' sentences are matched with: a follow-up is read with the
        # questions before it (an elliptical "And LoRA alone?" keeps their frame).
        earlier = [m["content"] for m in history if m.get("role") == "user"]
        asks = read_question(question, earlier, plan)
        scored = self.score_sentences(asks, chunks)
        unknown = unknown_names(asks, chunks)
        retrieved = time.perf_counter()

        def timings(first: float, done: float) -> dict[str, float]:
            return {
                "load_ms": (loaded - started) * 1000,
                "retrieve_ms": (retrieved - loaded) * 1000,
                "first_token_ms": (first - loaded) * 1000,
                "total_ms": (done - started) * 1000,
            }

        if scored.relevance < self.settings.min_relevance or unknown:
            # Nothing relevant enough, or what the question asks about is in no passage: say
            # so, name the closest documents, ask no model.
            yield Retrieved(query, chunks, rewritten, plan)
            text = not_found_answer(chunks, unknown=unknown)
            yield Token(text)
            now = time.perf_counter()
            yield Finished(text, name, chunks, timings(now, now), not_found=True)
            return
        if chat_model is None:  # the extractive mode
            yield Retrieved(query, chunks, rewritten, plan)
            # What the conversation's answers showed is not shown again unless it is the
            # answer: a third turn does not bring back the first answer's sentences either.
            # In order, so the last answer's sentences stay the last ones shown.
            shown = "\n\n".join(m["content"] for m in history if m.get("role") == "assistant")
            answer = answer_from(scored, shown=shown)
            yield Token(answer.text)
            now = time.perf_counter()
            yield Finished(answer.text, name, chunks, timings(now, now), answer.claims)
            return
        yield from self._generate(
            question, history, chat_model, options, query, rewritten, chunks, plan, timings
        )

    def score_sentences(self, question: str | Asks, chunks: Sequence[Passage]) -> Scored:
        """The passages' sentences scored against the question (:mod:`rag.answer.scoring`)."""
        return score_candidates(question, candidates(chunks), self.sentence_vectors)

    def _generate(
        self,
        question: str,
        history: Sequence[Message],
        chat_model: ChatModel,
        options: GenerationOptions,
        query: str,
        rewritten: str | None,
        chunks: list[Passage],
        plan: QuestionPlan,
        timings: Callable[[float, float], dict[str, float]],
    ) -> Iterator[AnswerEvent]:
        """The language model's answer, streamed, then checked sentence by sentence."""
        prompt = self._prompt(question, history, chat_model, options, chunks, plan)
        yield Retrieved(query, prompt.chunks, rewritten, plan)
        pieces: list[str] = []
        first_token = None
        for piece in stop_repeating(chat_model.stream_chat(prompt.messages, options)):
            if first_token is None:
                first_token = time.perf_counter()
            pieces.append(piece)
            yield Token(piece)
        done = time.perf_counter()
        checked = verify(trim_loop("".join(pieces)), prompt.chunks, self.sentence_vectors)
        yield Finished(
            checked.answer,
            chat_model.name,
            prompt.chunks,
            timings(first_token or done, done),
            checked.claims,
        )

    # --- checking any text --------------------------------------------------------------------
    def check_text(self, text: str, question: str | None = None) -> CheckedText:
        """Each sentence of ``text`` (an answer from elsewhere, a learner's summary) checked
        against the notes: passages are retrieved for the sentence itself (with ``question``,
        when given, weighed in as its context), then :class:`~rag.answer.ClaimChecker` gives
        its verdict. Sentences that state nothing ("Here is what I found:") are left out.
        Nothing is changed: no model is asked, the store is only read."""
        text = (text or "").strip()
        if not text:
            raise UserError("Paste a text to check first.")
        if len(text) > self.settings.max_message_chars:
            raise UserError(
                f"The text is {len(text)} characters long; the limit is "
                f"{self.settings.max_message_chars}. Check it in parts."
            )
        self._wait_for_startup()
        if self.store.count() == 0:
            raise UserError(NO_NOTES)
        sentences = [
            strip_citations(s.text).strip()
            for s in split_sentences(text, lower_case_starts=True)
            if s.kind != HEADING
        ]
        sentences = [s for s in sentences if is_claim(s)]
        vectors = self.sentence_vectors(sentences) if sentences else []
        numbered: dict[tuple[Any, ...], Passage] = {}
        claims = []
        for sentence, vector in zip(sentences, vectors, strict=True):
            found = []
            # The sentence's own plan: the question's parts would search for what the
            # question asks, not for what this sentence says.
            plan = self.retriever.plan(sentence)
            for passage in self.retrieve(sentence, question=question or None, plan=plan):
                # One passage, whichever section its header line names for this sentence.
                key = (passage.source, passage.chunk_ids, passage.body)
                if key not in numbered:
                    numbered[key] = dataclasses.replace(passage, n=len(numbered) + 1)
                found.append(numbered[key])
            claims.append(ClaimChecker(found, self.sentence_vectors).check(sentence, (), vector))
        return CheckedText(claims, list(numbered.values()))

    def _prompt(
        self,
        question: str,
        history: Sequence[Message],
        chat_model: ChatModel,
        options: GenerationOptions,
        chunks: Sequence[Passage],
        plan: QuestionPlan,
    ) -> FittedPrompt:
        """The chat model's prompt: the passages it keeps within the model's context."""
        try:
            return build_prompt(
                question,
                chunks,
                history,
                count_tokens=chat_model.count_tokens,
                context_window=chat_model.context_window,
                max_source_tokens=self.settings.max_source_tokens,
                max_history_tokens=self.settings.max_history_tokens,
                max_new_tokens=options.max_new_tokens,
                plan=plan,
            )
        except ValueError as exc:
            raise LLMError(str(exc)) from exc

    def answer_context(self, question: str, model: str | None = None) -> list[Passage]:
        """The passages an answer to ``question``, asked on its own, reads: the ``top_k``
        retrieved in the extractive mode; for a chat model (``model``, default the
        configured one), those its prompt keeps within its context and
        ``max_source_tokens``. Evaluation checks that they hold every document needed."""
        name = model or self.settings.model
        plan = self.retriever.plan(question)
        chunks = self.retrieve(question, plan=plan)
        if is_extractive(name):
            return chunks
        options = GenerationOptions(self.settings.temperature, self.settings.max_new_tokens)
        return self._prompt(question, (), self.chat_model(name), options, chunks, plan).chunks

    def load_model(self, name: str | None = None) -> str:
        """Load the chat model ``name`` now rather than at the first question (nothing to load
        for the extractive mode); returns the name answers will carry."""
        name = name or self.settings.model
        return name if is_extractive(name) else self.chat_model(name).name

    def ask(self, question: str, history: Sequence[Message] = (), **kwargs) -> Finished:
        """The whole answer at once (for scripts and tests)."""
        finished = None
        for event in self.answer_stream(question, history, **kwargs):
            if isinstance(event, Finished):
                finished = event
        assert finished is not None
        return finished


def create_service(
    settings: Settings, *, embedder_factory: Callable[[Settings], Embedder] | None = None
) -> RagService:
    store = open_store(settings)
    factory = embedder_factory or embedder_for
    return RagService(settings, store, factory(settings))
