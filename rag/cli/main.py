"""``python -m rag ask "QUESTION"``, ``chat``, ``check "TEXT"``, ``eval`` and ``models``: the
chatbot from a terminal."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rag.core import CONTRADICTED, NOT_IN_NOTES, SUPPORTED, AppError, UserError
from rag.settings import load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", help="answer a question from the notes, streamed")
    ask.add_argument("question")
    ask.add_argument("--db", type=Path, help="store folder (RAG_DB_DIR)")
    ask.add_argument("--k", type=int, help="chunks given to the model (RAG_TOP_K)")
    ask.add_argument("--model", help="backend:model, e.g. llamacpp:smollm2 (RAG_MODEL)")
    ask.add_argument("--temperature", type=float)
    ask.add_argument("--max-new-tokens", type=int)
    ask.add_argument("--json", action="store_true", help="end with the answer as one JSON line")

    chat = commands.add_parser(
        "chat",
        help="a conversation in the terminal: one question a line on standard input, "
        "each a follow-up of the ones before",
    )
    chat.add_argument("--db", type=Path, help="store folder (RAG_DB_DIR)")
    chat.add_argument("--k", type=int, help="chunks given to the model (RAG_TOP_K)")
    chat.add_argument("--model", help="backend:model, e.g. llamacpp:smollm2 (RAG_MODEL)")
    chat.add_argument(
        "--json", action="store_true", help="one JSON line per answer, as `ask --json` ends"
    )

    check = commands.add_parser(
        "check",
        help="check each sentence of any text (another chatbot's answer, your own summary) "
        "against the notes: supported, contradicted or not in the notes",
    )
    check.add_argument("text", help="the text to check (- reads it from standard input)")
    check.add_argument("--question", help="the question the text answers (helps retrieval)")
    check.add_argument("--db", type=Path, help="store folder (RAG_DB_DIR)")
    check.add_argument("--json", action="store_true", help="end with the verdicts as one JSON line")

    evaluate = commands.add_parser(
        "eval", help="score retrieval, or answers (--answers), on a tests file (course format)"
    )
    evaluate.add_argument("--docs", type=Path, required=True, help="folder of documents")
    evaluate.add_argument("--tests", type=Path, help="tests .jsonl file")
    evaluate.add_argument(
        "--conversations",
        type=Path,
        help="answers: a .jsonl file of conversations, each turn a follow-up (instead of --tests)",
    )
    evaluate.add_argument("--db", type=Path, help="store folder (default: a fresh temporary one)")
    evaluate.add_argument("--k", type=int, default=10, help="chunks scored per question")
    evaluate.add_argument(
        "--answers",
        action="store_true",
        help="score the chat's answers (keywords, citations, support, refusals, time)",
    )
    evaluate.add_argument(
        "--model",
        help="backend:model answering (RAG_MODEL); for retrieval, whose passages are checked "
        "for every document a question lists",
    )
    evaluate.add_argument(
        "--judge", help="answers: backend:model scoring them against reference_answer, 1-5"
    )
    evaluate.add_argument("--limit", type=int, help="only the first N questions (conversations)")
    evaluate.add_argument(
        "--json", action="store_true", help="end with the scores as one JSON line"
    )

    models = commands.add_parser(
        "models", help="list the chat models available here and the recommended ones"
    )
    models.add_argument(
        "--pull",
        metavar="NAME",
        help="download a model: a recommended one's key (qwen2.5-1.5b), "
        "llamacpp:hf://OWNER/REPO/FILE.gguf or ollama:NAME",
    )
    return parser


def _service(args, **settings):
    """The service for ``ask`` and ``chat``, or None (said on stderr) when its store is empty."""
    from rag.app.service import create_service

    service = create_service(
        load_settings(db_dir=args.db, top_k=args.k, model=args.model, **settings)
    )
    if service.store.count() == 0:
        print(
            f"error: the store {service.store.description} is empty; run `python -m ingest` first",
            file=sys.stderr,
        )
        return None
    return service


def _answer(service, question: str, history, *, stream: bool):
    """Answer ``question`` after ``history``; its text is written out as it comes when
    ``stream``. Returns (Finished, the text streamed)."""
    from rag.app.service import Finished, PullProgress, Retrieved, Token
    from rag.cli.models import ProgressBars

    finished = None
    download_bars = ProgressBars()  # the model is downloaded first when it isn't here yet
    streamed = []
    for event in service.answer_stream(question, history):
        if isinstance(event, PullProgress):
            download_bars(event)
        elif isinstance(event, Token):
            streamed.append(event.text)
            if stream:
                sys.stdout.write(event.text)
                sys.stdout.flush()
        elif isinstance(event, Retrieved) and not event.chunks:
            print("(no matching documents)", file=sys.stderr)
        elif isinstance(event, Finished):
            finished = event
    return finished, "".join(streamed)


def _ask(args) -> int:
    service = _service(args, temperature=args.temperature, max_new_tokens=args.max_new_tokens)
    if service is None:
        return 2
    finished, streamed = _answer(service, args.question, [], stream=True)
    _print_checks(finished, streamed)
    if args.json:
        print(json.dumps(finished.as_dict(), ensure_ascii=False))
    return 0


def _chat(args) -> int:
    """One question a line on standard input, each answered with the conversation before it
    (as the web chat does): printed with its sources, or as one JSON line with ``--json``."""
    service = _service(args)
    if service is None:
        return 2
    history: list[dict[str, str]] = []
    interactive = sys.stdin.isatty() and not args.json
    while True:
        if interactive:
            sys.stdout.write("\n> ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        try:
            finished, streamed = _answer(service, question, history, stream=not args.json)
        except UserError as exc:  # a question it can't take: say so, and go on
            print(f"error: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(finished.as_dict(), ensure_ascii=False), flush=True)
        else:
            _print_checks(finished, streamed)
            print(flush=True)
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": finished.answer},
        ]
    return 0


def _print_checks(finished, streamed: str) -> None:
    """After the streamed answer: its checked version when citations were added, the
    sentences no source holds, then the sources, cited first."""
    from rag.answer import source_label

    if finished.answer.strip() != streamed.strip():
        print("\n\nWith its citations checked:\n" + finished.answer)
    unsupported = [c for c in finished.claims if not c.supported]
    if unsupported:
        print("\n\nNot in the notes (don't rely on these):")
        for claim in unsupported:
            print(f"  ⚠ {claim.text} ({claim.reason})")
    if finished.not_found:
        print("\n\nClosest passages (they don't answer it):")
        for chunk in finished.chunks:
            print(f"  [{chunk.n}] {source_label(chunk)}")
        return
    cited = {n for c in finished.claims if c.supported for n in c.sources}
    print("\n\nSources:")
    for chunk in finished.chunks:
        if chunk.n in cited or not finished.claims:
            print(f"  [{chunk.n}] {source_label(chunk)}")
    uncited = [c for c in finished.chunks if finished.claims and c.n not in cited]
    if uncited:
        print("Retrieved, not cited:")
        for chunk in uncited:
            print(f"  [{chunk.n}] {source_label(chunk)}")


#: How each verdict is shown in a terminal.
VERDICT_MARKS = {
    SUPPORTED: "✓ supported",
    CONTRADICTED: "✗ contradicted",
    NOT_IN_NOTES: "⚠ not in the notes",
}


def _check(args) -> int:
    from rag.answer import source_label
    from rag.app.service import create_service

    service = create_service(load_settings(db_dir=args.db))
    text = sys.stdin.read() if args.text == "-" else args.text
    checked = service.check_text(text, args.question)
    if not checked.claims:
        print("Nothing to check: no sentence states something.")
    for claim in checked.claims:
        print(f"{VERDICT_MARKS[claim.verdict]}: {claim.text}")
        for evidence in claim.evidence:
            print(f"    [{evidence.n}] {evidence.text}")
        if claim.reason and claim.verdict != SUPPORTED:
            print(f"    ({claim.reason})")
    used = {e.n for claim in checked.claims for e in claim.evidence}
    if used:
        print("\nSources:")
        for passage in checked.passages:
            if passage.n in used:
                print(f"  [{passage.n}] {source_label(passage)}")
    if args.json:
        print(json.dumps(checked.as_dict(), ensure_ascii=False))
    return 0


def _models(args) -> int:
    from rag.cli.models import run

    return run(args, load_settings())


def _eval(args) -> int:
    if args.limit is not None and args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    if not args.answers and (args.judge or args.conversations):
        print("error: --judge and --conversations score answers: add --answers", file=sys.stderr)
        return 2
    if (args.tests is None) == (args.conversations is None):
        print("error: give --tests FILE or --conversations FILE, one of them", file=sys.stderr)
        return 2
    if args.conversations and args.judge:
        print("error: --judge scores questions of --tests, not conversations", file=sys.stderr)
        return 2
    if args.conversations:
        from rag.evaluation.conversations import run_cli
    elif args.answers:
        from rag.evaluation.answers import run_cli
    else:
        from rag.evaluation.retrieval import run_cli
    return run_cli(args, load_settings(db_dir=args.db, model=args.model))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    handler = {"ask": _ask, "chat": _chat, "check": _check, "eval": _eval, "models": _models}[
        args.command
    ]
    try:
        return handler(args)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
