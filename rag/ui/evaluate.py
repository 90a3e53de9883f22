"""The Evaluate tab: score retrieval or answers on a tests file, as the LLM-engineering course
does.

Pick a tests file (course format: one JSON object a line with ``question`` and ``keywords``)
from those bundled under ``tests/data`` (first, the questions on the sample notes in
``knowledge_base/``), the one named by ``RAG_EVAL_TESTS``, or an upload;
pick a documents folder (the knowledge folder by default); run. The folder is ingested into a
temporary store of its own, so the chat's store is never touched, and every question goes
through the chat's own retriever and settings (:func:`rag.evaluation.retrieval.evaluate_folder`), or,
for answers, through the chat's own answer path with the chosen model
(:func:`rag.evaluation.answers.evaluate_answers_folder`).

The one handler, :meth:`EvaluateHandlers.run`, is a plain method, so tests call it directly;
:func:`build_evaluate_tab` only lays out components and wires the event. Evaluating is for
admins (:class:`Access`), a few at once per session (:class:`FairUse`); choices and messages
name files and folders by name, never by where they are on the server.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import gradio as gr

from rag.app import RagService
from rag.evaluation import (
    EvalCase,
    EvalFileError,
    evaluate_answers_folder,
    evaluate_folder,
    load_tests,
)
from rag.evaluation.answer_report import HEADERS as ANSWER_HEADERS
from rag.ui.access import Access
from rag.ui.chat import ChatHandlers
from rag.ui.fair_use import FairUse
from rag.ui.redact import redact

log = logging.getLogger(__name__)

BUNDLED_TESTS = Path(__file__).resolve().parents[2] / "tests" / "data"
# Questions on the sample notes in knowledge_base/, the app's default documents: offered first.
DEFAULT_TESTS = "knowledge_base_tests.jsonl"
CATEGORY_HEADERS = ["Category", "Questions", "MRR", "nDCG@k", "Coverage %", "All documents"]
WEAK_HEADERS = [
    "Question",
    "MRR",
    "Coverage %",
    "Missing keywords",
    "Missing documents",
    "First source",
]
MAX_TESTS_MB = 5.0
MAX_K = 50
RETRIEVAL, ANSWERS = "Retrieval", "Answers"
# What the run returns: status, retrieval rows, weakest questions, answer rows.
Outcome = tuple[str, list[list[Any]], list[list[Any]], list[list[Any]]]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


class EvaluateHandlers:
    def __init__(
        self,
        service: RagService,
        access: Access | None = None,
        fair_use: FairUse | None = None,
    ):
        self.service = service
        self.access = access or Access.everyone_admin()
        self.fair_use = fair_use or FairUse.from_settings(service.settings)
        # One evaluation at a time: each embeds a whole folder on the machine serving the chat.
        self._running = threading.Lock()

    # --- choices --------------------------------------------------------------------------
    def _tests_offered(self) -> list[tuple[str, str, Path]]:
        """(label, key, path) of the tests files on offer: the configured one, then bundled."""
        offered = []
        configured = self.service.settings.eval_tests
        if configured and Path(configured).is_file():
            name = Path(configured).name
            offered.append((f"{name} (RAG_EVAL_TESTS)", f"configured/{name}", Path(configured)))
        if BUNDLED_TESTS.is_dir():
            bundled = BUNDLED_TESTS.glob("*.jsonl")
            for path in sorted(bundled, key=lambda p: (p.name != DEFAULT_TESTS, p.name)):
                offered.append((f"{path.name} (bundled)", f"bundled/{path.name}", path))
        return offered

    def tests_choices(self) -> list[tuple[str, str]]:
        """(label, key) of the tests files on offer; keys, not server paths, go to the page."""
        return [(label, key) for label, key, _ in self._tests_offered()]

    def docs_roots(self) -> dict[str, Path]:
        """Folders whose documents may be evaluated, by key: the app's own, and RAG_EVAL_DOCS."""
        settings = self.service.settings
        roots = {"knowledge": Path(settings.knowledge_dir), "uploads": settings.uploads_path}
        if settings.eval_docs:
            roots["eval_docs"] = Path(settings.eval_docs)
        return roots

    def docs_choices(self) -> list[tuple[str, str]]:
        """(folder name, key) of the folders on offer."""
        labels = {
            "knowledge": "knowledge folder",
            "uploads": "uploads",
            "eval_docs": "RAG_EVAL_DOCS",
        }
        return [
            (f"{root.name} ({labels[key]})", key)
            for key, root in self.docs_roots().items()
            if root.is_dir()
        ]

    def _shown(self, folder: Path) -> str:
        """A folder as the page names it: relative to the root it is in."""
        for root in self.docs_roots().values():
            if _inside(folder, root):
                relative = folder.resolve().relative_to(root.resolve())
                return str(Path(root.name) / relative) if relative.parts else root.name
        return folder.name

    # --- checks ---------------------------------------------------------------------------
    def _tests_path(self, chosen: str | None, uploaded: Any) -> Path:
        if uploaded:
            path = Path(getattr(uploaded, "path", None) or getattr(uploaded, "name", uploaded))
            limit = min(MAX_TESTS_MB, self.service.settings.max_upload_mb)
            if path.is_file() and path.stat().st_size > limit * 1024 * 1024:
                raise EvalFileError(f"{path.name}: over the {limit:g} MB limit for a tests file")
            return path
        for _, key, path in self._tests_offered():
            if chosen in (key, str(path)):
                return path
        raise EvalFileError("Choose a tests file or upload one.")

    def _docs_folder(self, docs: str | None) -> Path:
        """The chosen folder: a key of :meth:`docs_roots`, or a folder inside one of them."""
        docs = (docs or "").strip() or "knowledge"
        roots = self.docs_roots()
        folder = roots.get(docs) or Path(docs)
        if not any(_inside(folder, root) for root in roots.values()):
            allowed = ", ".join(root.name for root in roots.values())
            raise ValueError(
                f"{Path(docs).name} is not inside a folder this app may read ({allowed})."
            )
        if not folder.is_dir():
            raise ValueError(f"{self._shown(folder)}: no such folder.")
        return folder

    # --- the run --------------------------------------------------------------------------
    def run(
        self,
        chosen: str | None,
        uploaded: Any,
        docs: str | None,
        k: float | int | None,
        what: str = RETRIEVAL,
        model: str | None = None,
        progress: Any = gr.Progress(),
        request: gr.Request = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Outcome:
        """(status markdown, retrieval rows by category then total, weakest questions, answer
        rows by category then total); the tables of the kind not evaluated are empty."""
        self.access.require_admin("run evaluations", request, profile)
        try:
            tests_path = self._tests_path(chosen, uploaded)
            cases = load_tests(tests_path)
            folder = self._docs_folder(docs)
        except (EvalFileError, ValueError) as exc:
            log.info("evaluation refused: %s", exc)
            return redact(f"**Can't evaluate:** {exc}"), [], [], []
        with self.fair_use.evaluation(request):
            if not self._running.acquire(blocking=False):
                return (
                    "**Busy:** another evaluation is running; try again when it ends.",
                    [],
                    [],
                    [],
                )
            try:
                progress(0.0, desc="Loading")

                def report(fraction: float, text: str) -> None:
                    progress(fraction, desc=text)

                if what == ANSWERS:
                    return self._answers(cases, tests_path, folder, model, report)
                return self._retrieval(cases, tests_path, folder, k, report)
            except Exception as exc:  # shown to the person who asked, and logged in full
                log.exception("evaluation of %s on %s failed", tests_path, folder)
                return redact(f"**Evaluation failed:** {exc}"), [], [], []
            finally:
                self._running.release()

    def _retrieval(
        self, cases: list[EvalCase], tests_path: Path, folder: Path, k: Any, progress: Any
    ) -> Outcome:
        k = max(1, min(MAX_K, int(k or 10)))
        run = evaluate_folder(
            self.service.settings,
            folder,
            cases,
            embedder=self.service.embedder,
            k=k,
            progress=progress,
        )
        result = run.result
        totals = result.totals
        status = (
            f"**{len(cases)} questions** from `{tests_path.name}` on `{self._shown(folder)}` "
            f"({run.report.summary()}; {run.eval_seconds:.1f} s of retrieval): "
            f"MRR **{totals.mrr:.3f}**, nDCG@{k} **{totals.ndcg:.3f}**, "
            f"coverage **{totals.coverage:.1f}%**."
        ) + _failures(run.report)
        if totals.complete is not None:
            status += f" {result.completeness_line()}."
        weak = [
            [
                s.case.question,
                round(s.mrr, 3),
                round(s.coverage, 1),
                ", ".join(s.missing),
                ", ".join(s.missing_documents),
                s.sources[0] if s.sources else "",
            ]
            for s in result.misses(10)
        ]
        return status, result.rows(), weak, []

    def _answers(
        self, cases: list[EvalCase], tests_path: Path, folder: Path, model: Any, progress: Any
    ) -> Outcome:
        run = evaluate_answers_folder(
            self.service.settings,
            folder,
            cases,
            embedder=self.service.embedder,
            model=model or None,
            progress=progress,
        )
        result = run.result
        t = result.totals
        recall = "–" if t.keyword_recall is None else f"{100 * t.keyword_recall:.0f}%"
        status = (
            f"**{len(cases)} question(s)** from `{tests_path.name}` on `{self._shown(folder)}` "
            f"answered by `{redact(result.model)}` ({run.report.summary()}; "
            f"{run.eval_seconds:.1f} s "
            f"of answers): keyword recall **{recall}**, **{t.unsupported_numbers}** numbers in "
            f"no source, **{t.false_refusals}** false refusals, first text after "
            f"**{t.first_text_median_s or 0.0:.2f} s** (median)."
        ) + _failures(run.report)
        return status, [], [], result.rows()


def _failures(report: Any) -> str:
    failed = report.failures
    if not failed:
        return ""
    reasons = "; ".join(redact(f.reason) for f in failed[:3])
    return f" {len(failed)} file(s) could not be read: {reasons}"


def build_evaluate_tab(
    service: RagService, access: Access | None = None, fair_use: FairUse | None = None
) -> None:
    """Components of the Evaluate tab, created in the caller's current Blocks/Tab context."""
    handlers = EvaluateHandlers(service, access, fair_use)
    choices = handlers.tests_choices()
    gr.Markdown(
        "Score retrieval the way the LLM-engineering course does: for each question, where its "
        "keywords first appear in the passages retrieved (MRR), how high all of them rank "
        "(nDCG), and how many are found at all (coverage); for questions that list the "
        "documents their answer needs, whether all of them are in the passages the answer "
        "reads (all documents). Or score the chat's answers: the "
        "keywords in the answer, citations that name a given source, sentences the sources "
        "support, numbers found in no source, refusals, and time. The documents are ingested "
        "into a temporary store; the chat's store is not touched."
    )
    with gr.Row():
        chosen = gr.Dropdown(
            choices=choices,
            value=choices[0][1] if choices else None,
            label="Tests file",
            scale=2,
        )
        uploaded = gr.File(
            label="…or upload one (.jsonl)", file_types=[".jsonl"], type="filepath", scale=2
        )
    with gr.Row():
        docs = gr.Dropdown(
            choices=handlers.docs_choices(),
            value="knowledge",
            allow_custom_value=True,
            label="Documents folder",
            scale=3,
        )
        k = gr.Slider(1, MAX_K, value=10, step=1, label="Passages scored per question (k)")
    with gr.Row():
        what = gr.Radio([RETRIEVAL, ANSWERS], value=RETRIEVAL, label="Evaluate", scale=1)
        model = gr.Dropdown(
            ChatHandlers(service, fair_use, access).model_choices()[0],
            value=service.settings.model,
            label="Model answering (answers only)",
            scale=2,
        )
    run = gr.Button("Evaluate", variant="primary")
    status = gr.Markdown()
    categories = gr.Dataframe(
        headers=CATEGORY_HEADERS, label="Scores by category", interactive=False
    )
    weakest = gr.Dataframe(
        headers=WEAK_HEADERS, label="Weakest questions", interactive=False, wrap=True
    )
    answers = gr.Dataframe(
        headers=ANSWER_HEADERS, label="Answer scores by category", interactive=False, wrap=True
    )
    run.click(
        handlers.run,
        [chosen, uploaded, docs, k, what, model],
        [status, categories, weakest, answers],
        concurrency_id="evaluate",
        concurrency_limit=1,
        api_name="evaluate",
    )
