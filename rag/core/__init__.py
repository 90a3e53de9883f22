"""What every layer shares: the chunk format, search terms, sentences, claims and the
weights that ship inside packages. It imports nothing of the app."""

from rag.core.answer_text import (
    NOTES_DONT_SAY,
    NUMBER_WORDS,
    SCALES,
    citations,
    cite,
    is_refusal,
    not_covered,
    numbers,
    replace_citations,
    scaled,
    strip_citations,
)
from rag.core.bundled import bundled_gguf, bundled_gguf_aliases, resolve_embedding_model
from rag.core.chunks import (
    CHUNKER_VERSION,
    HEADER_KEY,
    HEADER_SEPARATOR,
    Chunk,
    chunk_id,
    document_label,
    header_line,
    join_header,
    stored_parts,
)
from rag.core.claims import CONTRADICTED, NOT_IN_NOTES, SUPPORTED, Claim, Evidence
from rag.core.errors import AppError, NotReady, UserError
from rag.core.names import QUESTION_WORDS, names
from rag.core.passage import GAP, Passage
from rag.core.sentences import (
    HEADING,
    ITEM,
    ROW,
    TEXT,
    Sentence,
    abbreviated,
    comparable,
    is_title,
    plain,
    split_sentences,
)
from rag.core.terms import search_terms

__all__ = [
    "CHUNKER_VERSION",
    "CONTRADICTED",
    "GAP",
    "HEADER_KEY",
    "HEADER_SEPARATOR",
    "HEADING",
    "ITEM",
    "NOTES_DONT_SAY",
    "NOT_IN_NOTES",
    "NUMBER_WORDS",
    "QUESTION_WORDS",
    "ROW",
    "SCALES",
    "SUPPORTED",
    "TEXT",
    "AppError",
    "Chunk",
    "Claim",
    "Evidence",
    "NotReady",
    "Passage",
    "Sentence",
    "UserError",
    "abbreviated",
    "bundled_gguf",
    "bundled_gguf_aliases",
    "chunk_id",
    "citations",
    "cite",
    "comparable",
    "document_label",
    "header_line",
    "is_refusal",
    "is_title",
    "join_header",
    "names",
    "not_covered",
    "numbers",
    "plain",
    "replace_citations",
    "resolve_embedding_model",
    "scaled",
    "search_terms",
    "split_sentences",
    "stored_parts",
    "strip_citations",
]
