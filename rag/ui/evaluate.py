"""The Evaluate tab: score retrieval on a tests file, as the LLM-engineering course does.

Pick a tests file (course format: one JSON object a line with ``question`` and ``keywords``)
from those bundled under ``tests/data`` (first, the questions on the sample notes in
``knowledge_base/``), the one named by ``RAG_EVAL_TESTS``, or an upload;
pick a documents folder (the knowledge folder by default); run. The folder is ingested into a
temporary store of its own, so the chat's store is never touched, and every question goes
through the chat's own retriever and settings (:func:`rag.evaluation.evaluate_folder`).

The handler is a plain method on :class:`EvaluateHandlers`, so tests call it directly;
:func:`build_evaluate_tab` only lays out components and wires the event.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import gradio as gr

from rag.evaluation import EvalFileError, evaluate_folder, load_tests
from rag.service import RagService

log = logging.getLogger(__name__)

BUNDLED_TESTS = Path(__file__).resolve().parents[2] / "tests" / "data"
# Questions on the sample notes in knowledge_base/, the app's default documents: offered first.
DEFAULT_TESTS = "knowledge_base_tests.jsonl"
CATEGORY_HEADERS = ["Category", "Questions", "MRR", "nDCG@k", "Coverage %"]
WEAK_HEADERS = ["Question", "MRR", "Coverage %", "Missing keywords", "First source"]
MAX_TESTS_MB = 5.0
MAX_K = 50


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


class EvaluateHandlers:
    def __init__(self, service: RagService):
        self.service = service
        # One evaluation at a time: each embeds a whole folder on the machine serving the chat.
        self._running = threading.Lock()

    # --- choices --------------------------------------------------------------------------
    def tests_choices(self) -> list[tuple[str, str]]:
        """(label, path) of the tests files on offer: the configured one, then bundled ones."""
        choices = []
        configured = self.service.settings.eval_tests
        if configured and Path(configured).is_file():
            choices.append((f"{Path(configured).name} (RAG_EVAL_TESTS)", str(configured)))
        if BUNDLED_TESTS.is_dir():
            bundled = BUNDLED_TESTS.glob("*.jsonl")
            for path in sorted(bundled, key=lambda p: (p.name != DEFAULT_TESTS, p.name)):
                choices.append((f"{path.name} (bundled)", str(path)))
        return choices

    def docs_roots(self) -> list[Path]:
        """Folders whose documents may be evaluated: the app's own, and RAG_EVAL_DOCS."""
        settings = self.service.settings
        roots = [Path(settings.knowledge_dir), Path(settings.uploads_path)]
        if settings.eval_docs:
            roots.append(Path(settings.eval_docs))
        return roots

    def docs_choices(self) -> list[str]:
        return [str(root) for root in self.docs_roots() if root.is_dir()]

    # --- checks ---------------------------------------------------------------------------
    def _tests_path(self, chosen: str | None, uploaded: Any) -> Path:
        if uploaded:
            path = Path(getattr(uploaded, "path", None) or getattr(uploaded, "name", uploaded))
            limit = min(MAX_TESTS_MB, self.service.settings.max_upload_mb)
            if path.is_file() and path.stat().st_size > limit * 1024 * 1024:
                raise EvalFileError(f"{path.name}: over the {limit:g} MB limit for a tests file")
            return path
        offered = {path for _, path in self.tests_choices()}
        if not chosen or chosen not in offered:
            raise EvalFileError("Choose a tests file or upload one.")
        return Path(chosen)

    def _docs_folder(self, docs: str | None) -> Path:
        folder = (
            Path(docs.strip()) if docs and docs.strip() else self.service.settings.knowledge_dir
        )
        if not any(_inside(folder, root) for root in self.docs_roots()):
            allowed = ", ".join(str(root) for root in self.docs_roots())
            raise ValueError(f"{folder} is not inside a folder this app may read ({allowed}).")
        if not folder.is_dir():
            raise ValueError(f"{folder}: no such folder.")
        return folder

    # --- the run --------------------------------------------------------------------------
    def run(
        self,
        chosen: str | None,
        uploaded: Any,
        docs: str | None,
        k: float | int | None,
        progress: Any = gr.Progress(),
    ) -> tuple[str, list[list[Any]], list[list[Any]]]:
        """(status markdown, rows by category then total, weakest questions)."""
        try:
            tests_path = self._tests_path(chosen, uploaded)
            cases = load_tests(tests_path)
            folder = self._docs_folder(docs)
        except (EvalFileError, ValueError) as exc:
            return f"**Can't evaluate:** {exc}", [], []
        k = max(1, min(MAX_K, int(k or 10)))
        if not self._running.acquire(blocking=False):
            return "**Busy:** another evaluation is running; try again when it ends.", [], []
        try:
            progress(0.0, desc="Loading")
            run = evaluate_folder(
                self.service.settings,
                folder,
                cases,
                embedder=self.service.embedder,
                k=k,
                progress=lambda fraction, text: progress(fraction, desc=text),
            )
        except Exception as exc:  # shown to the person who asked, and logged in full
            log.exception("evaluation of %s on %s failed", tests_path, folder)
            return f"**Evaluation failed:** {exc}", [], []
        finally:
            self._running.release()
        result = run.result
        totals = result.totals
        failed = run.report.failures
        status = (
            f"**{len(cases)} questions** from `{tests_path.name}` on `{folder}` "
            f"({run.report.summary()}; {run.eval_seconds:.1f} s of retrieval): "
            f"MRR **{totals.mrr:.3f}**, nDCG@{k} **{totals.ndcg:.3f}**, "
            f"coverage **{totals.coverage:.1f}%**."
        )
        if failed:
            status += f" {len(failed)} file(s) could not be read: " + "; ".join(
                f.reason for f in failed[:3]
            )
        weak = [
            [
                s.case.question,
                round(s.mrr, 3),
                round(s.coverage, 1),
                ", ".join(s.missing),
                s.sources[0] if s.sources else "",
            ]
            for s in result.misses(10)
        ]
        return status, result.rows(), weak


def build_evaluate_tab(service: RagService) -> None:
    """Components of the Evaluate tab, created in the caller's current Blocks/Tab context."""
    handlers = EvaluateHandlers(service)
    choices = handlers.tests_choices()
    gr.Markdown(
        "Score retrieval the way the LLM-engineering course does: for each question, where its "
        "keywords first appear in the passages retrieved (MRR), how high all of them rank "
        "(nDCG), and how many are found at all (coverage). The documents are ingested into a "
        "temporary store; the chat's store is not touched."
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
            value=str(service.settings.knowledge_dir),
            allow_custom_value=True,
            label="Documents folder",
            scale=3,
        )
        k = gr.Slider(1, MAX_K, value=10, step=1, label="Passages scored per question (k)")
    run = gr.Button("Evaluate", variant="primary")
    status = gr.Markdown()
    categories = gr.Dataframe(
        headers=CATEGORY_HEADERS, label="Scores by category", interactive=False
    )
    weakest = gr.Dataframe(
        headers=WEAK_HEADERS, label="Weakest questions", interactive=False, wrap=True
    )
    run.click(
        handlers.run,
        [chosen, uploaded, docs, k],
        [status, categories, weakest],
        concurrency_id="evaluate",
        concurrency_limit=1,
        api_name="evaluate",
    )
