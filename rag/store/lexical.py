"""The lexical index: SQLite FTS5 over every chunk's header and body, kept beside the store.

Dense search finds paraphrases; this index finds the exact names, codes and numbers that small
embedding models blur. It lives in a file of its own (``lexical-<collection>.sqlite3`` in the
store folder; for a Chroma server, in the folder of each machine that reads the server) and is
updated by :class:`~rag.store.chunk_store.ChunkStore` with every write, so a question costs two indexed
lookups, however large the store, instead of reading every chunk.

* **Fields.** A chunk's "document | section" header and its body are two FTS5 tables, each
  scored by SQLite's ``bm25()`` with its own length normalisation and term statistics, and
  summed: the header says which document a chunk belongs to without letting short chunks win
  on the document's name alone. A header's words count once (repeating them would only reward
  repetition).
* **Tokens.** Python cuts the words (:func:`rag.core.terms.search_terms`: lower-cased, stop words
  dropped, plurals folded, so "contracts" matches "contract"); FTS5 indexes the result as
  space-separated words.
* **The catalog.** Each chunk's document, position, page and size are kept too, so the
  retriever finds a hit's neighbours, and the documents list and counts are answered, without
  reading the store.
* **Staying in step.** The index records which state of the store (collection id, generation,
  count) it matches. A writer marks it as being written before its first change; a job killed
  halfway leaves that mark, and the next one to hold the ingest lock repairs the index against
  the store (:meth:`rag.store.chunk_store.ChunkStore.repair_lexical`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.core import search_terms

# Bumped when the tokens or tables change: an index of another version is rebuilt.
SCHEMA_VERSION = "1"
# SQLite binds at most 32,766 variables a statement; lists of ids go in slices well below it.
_SLICE = 900
# Each field proposes this many times the requested candidates before the two are summed:
# a chunk can rank well on the sum without topping either field alone.
_FIELD_DEPTH = 4
# A term held by half a field's rows or more gets no weight from bm25() (SQLite floors its IDF
# at 1e-6), yet FTS5 scores every row that holds it: "package" in each header of a folder of
# site-packages docs cost 0.15 s a lookup at 48,000 chunks. Such terms are left out of a
# field's query once they are in this many rows; below it the scan is cheap and a store of a
# few chunks keeps its exact behaviour (there, a row found only by such a term still counts).
_COMMON_TERM_ROWS = 2000
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ChunkRow:
    """What the index knows of one chunk: enough to find its neighbours and size a passage."""

    id: str
    source: str
    chunk_index: int | None
    page: int | None
    chars: int


@dataclass(frozen=True)
class DocumentRow:
    source: str
    path: str
    chunks: int
    ingested_at: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    chunk_index INTEGER,
    page INTEGER,
    chars INTEGER NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    ingested_at TEXT NOT NULL DEFAULT '',
    header TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_position ON chunks (source, chunk_index);
CREATE VIRTUAL TABLE IF NOT EXISTS header_fts USING fts5(
    header, content='chunks', content_rowid='rowid', tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
);
CREATE VIRTUAL TABLE IF NOT EXISTS body_fts USING fts5(
    body, content='chunks', content_rowid='rowid', tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
);
"""


def _slices(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _SLICE):
        yield items[start : start + _SLICE]


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _match(terms: Sequence[str]) -> str:
    """An FTS5 query for any of ``terms`` (word characters only, so quoting is safe);
    a term given twice counts twice, as in the query."""
    return " OR ".join(f'"{term}"' for term in terms)


class LexicalIndex:
    """One SQLite file; safe to share between threads and with other processes (WAL)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.path), timeout=60, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            if self._version() != SCHEMA_VERSION:
                self._recreate(only_if_stale=True)
            for field in ("header", "body"):
                # FTS5's own term counts, for _field_match; a TEMP table of this connection
                # writes nothing to the file, and finds the field's table by name when read.
                self._db.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{field}_vocab "
                    f"USING fts5vocab(main, {field}_fts, row)"
                )

    # --- housekeeping -------------------------------------------------------------------
    def _has_tables(self) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        return row is not None

    def _meta_value(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def _version(self) -> str | None:
        return self._meta_value("schema") if self._has_tables() else None

    def _recreate(self, only_if_stale: bool = False) -> None:
        """Empty tables of this version. ``only_if_stale``: unless another process, opening
        the same new file at the same moment, has just made them."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one process at a time from here
            try:
                if not (only_if_stale and self._version() == SCHEMA_VERSION):
                    for table in ("header_fts", "body_fts", "chunks", "meta"):
                        self._db.execute(f"DROP TABLE IF EXISTS {table}")
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,)
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- which state of the store it matches ------------------------------------------------
    def state(self) -> str | None:
        """The store state this index matches, a writer's mark, or None (never filled)."""
        with self._lock:
            return self._meta_value("state")

    def set_state(self, state: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('state', ?)", (state,))

    # --- writing --------------------------------------------------------------------------
    def add(
        self,
        ids: Sequence[str],
        headers: Sequence[str],
        bodies: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        """Add chunks (each one's header line and body), replacing any already indexed under
        the same ids; one transaction."""
        rows = []
        for id_, header, body, meta in zip(ids, headers, bodies, metadatas, strict=True):
            meta = meta or {}
            rows.append(
                (
                    id_,
                    str(meta.get("source", "")),
                    _int_or_none(meta.get("chunk_index")),
                    _int_or_none(meta.get("page")),
                    len(body),
                    str(meta.get("path") or ""),
                    str(meta.get("ingested_at") or ""),
                    " ".join(dict.fromkeys(search_terms(header))),
                    " ".join(search_terms(body)),
                )
            )
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._remove(list(ids))
            for row in rows:
                cursor = self._db.execute(
                    "INSERT INTO chunks (id, source, chunk_index, page, chars, path, ingested_at,"
                    " header, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                rowid = cursor.lastrowid
                self._db.execute(
                    "INSERT INTO header_fts (rowid, header) VALUES (?, ?)", (rowid, row[7])
                )
                self._db.execute(
                    "INSERT INTO body_fts (rowid, body) VALUES (?, ?)", (rowid, row[8])
                )

    def remove(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if not ids:
            return
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._remove(ids)

    def _remove(self, ids: Sequence[str]) -> None:
        for part in _slices(ids):
            marks = ",".join("?" * len(part))
            # External-content tables forget a row when told its old text.
            self._db.execute(
                "INSERT INTO header_fts (header_fts, rowid, header) "
                f"SELECT 'delete', rowid, header FROM chunks WHERE id IN ({marks})",
                part,
            )
            self._db.execute(
                "INSERT INTO body_fts (body_fts, rowid, body) "
                f"SELECT 'delete', rowid, body FROM chunks WHERE id IN ({marks})",
                part,
            )
            self._db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", part)

    def update_metadatas(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Follow metadata changes the index keeps (a document read from a new path)."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            for id_, meta in zip(ids, metadatas, strict=True):
                for key in ("path", "ingested_at"):
                    if key in meta:
                        self._db.execute(
                            f"UPDATE chunks SET {key}=? WHERE id=?", (str(meta[key] or ""), id_)
                        )

    def clear(self) -> None:
        self._recreate()

    # --- searching ------------------------------------------------------------------------
    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Up to ``n`` (chunk id, score) pairs, best first: BM25 of the body plus BM25 of the
        header, each over its own field."""
        terms = search_terms(query)
        if not terms or n <= 0:
            return []
        depth = n * _FIELD_DEPTH
        with self._lock:
            body_match = self._field_match("body", terms)
            header_match = self._field_match("header", terms)
            body = self._field_scores("body_fts", body_match, depth)
            header = self._field_scores("header_fts", header_match, depth)
            # A chunk proposed by one field gets its score in the other too.
            body.update(self._field_scores("body_fts", body_match, None, set(header) - set(body)))
            header.update(
                self._field_scores("header_fts", header_match, None, set(body) - set(header))
            )
            total = {
                rowid: body.get(rowid, 0.0) + header.get(rowid, 0.0) for rowid in body | header
            }
            best = sorted(total.items(), key=lambda item: (-item[1], item[0]))[:n]
            ids = self._ids([rowid for rowid, _ in best])
        return [(ids[rowid], score) for rowid, score in best if score > 0 and rowid in ids]

    def search_documents(self, query: str, sources: Sequence[str]) -> dict[str, tuple[str, float]]:
        """Each of ``sources``' best chunk for ``query`` by BM25 (body plus header), as
        source -> (chunk id, score); a document none of whose chunks holds a term of the
        query is left out. For a few documents: all their chunks are scored."""
        terms = search_terms(query)
        if not terms or not sources:
            return {}
        with self._lock:
            rowids: set[int] = set()
            for part in _slices(list(dict.fromkeys(sources))):
                marks = ",".join("?" * len(part))
                rowids.update(
                    rowid
                    for (rowid,) in self._db.execute(
                        f"SELECT rowid FROM chunks WHERE source IN ({marks})", part
                    )
                )
            body = self._field_scores("body_fts", self._field_match("body", terms), None, rowids)
            header = self._field_scores(
                "header_fts", self._field_match("header", terms), None, rowids
            )
            total = {r: body.get(r, 0.0) + header.get(r, 0.0) for r in body | header}
            best: dict[str, tuple[str, float]] = {}
            for part in _slices(sorted(total)):
                marks = ",".join("?" * len(part))
                for rowid, id_, source in self._db.execute(
                    f"SELECT rowid, id, source FROM chunks WHERE rowid IN ({marks})", part
                ):
                    score = total[rowid]
                    if score > 0 and (source not in best or score > best[source][1]):
                        best[source] = (id_, score)
        return best

    def _field_match(self, field: str, terms: Sequence[str]) -> str | None:
        """The FTS5 query of ``field`` for ``terms``, without those too common to weigh
        anything (:data:`_COMMON_TERM_ROWS`); None when none is left."""
        unique = sorted(set(terms))
        marks = ",".join("?" * len(unique))
        rows_with = dict(
            self._db.execute(
                f"SELECT term, doc FROM temp.{field}_vocab WHERE term IN ({marks})", unique
            )
        )
        common = {t for t, count in rows_with.items() if count >= _COMMON_TERM_ROWS}
        if common:
            (total,) = self._db.execute("SELECT count(*) FROM chunks").fetchone()
            common = {t for t in common if 2 * rows_with[t] >= total}
        kept = [t for t in terms if t not in common]
        return _match(kept) if kept else None

    def _field_scores(
        self, table: str, match: str | None, limit: int | None, rowids: set[int] | None = None
    ) -> dict[int, float]:
        """rowid -> score (bm25() is smaller for better matches; negated here)."""
        if match is None:
            return {}
        if rowids is not None:
            scores: dict[int, float] = {}
            for part in _slices(sorted(rowids)):
                marks = ",".join("?" * len(part))
                scores.update(
                    self._db.execute(
                        f"SELECT rowid, -bm25({table}) FROM {table} "
                        f"WHERE {table} MATCH ? AND rowid IN ({marks})",
                        (match, *part),
                    ).fetchall()
                )
            return scores
        return dict(
            self._db.execute(
                f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH ? "
                f"ORDER BY bm25({table}) LIMIT ?",
                (match, limit),
            ).fetchall()
        )

    def _ids(self, rowids: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for part in _slices(list(rowids)):
            marks = ",".join("?" * len(part))
            found.update(
                self._db.execute(
                    f"SELECT rowid, id FROM chunks WHERE rowid IN ({marks})", part
                ).fetchall()
            )
        return found

    # --- the catalog ------------------------------------------------------------------------
    def rows(self, ids: Iterable[str]) -> dict[str, ChunkRow]:
        """id -> row for those of ``ids`` that are indexed."""
        ids = list(dict.fromkeys(ids))
        found: dict[str, ChunkRow] = {}
        with self._lock:
            for part in _slices(ids):
                marks = ",".join("?" * len(part))
                for row in self._db.execute(
                    "SELECT id, source, chunk_index, page, chars FROM chunks "
                    f"WHERE id IN ({marks})",
                    part,
                ):
                    found[row[0]] = ChunkRow(*row)
        return found

    def at(self, source: str, chunk_index: int) -> ChunkRow | None:
        """The chunk at ``chunk_index`` of ``source`` (the newest, while a document is being
        replaced and two versions are stored)."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, source, chunk_index, page, chars FROM chunks "
                "WHERE source=? AND chunk_index=? ORDER BY rowid DESC LIMIT 1",
                (source, chunk_index),
            ).fetchone()
        return ChunkRow(*row) if row else None

    def header_documents(self, terms: Sequence[str]) -> list[str]:
        """Documents with every one of ``terms`` (search terms, as :func:`search_terms` cuts
        them) in the "document | section" header of one of their chunks: in their name,
        folder or headings. Sorted by name."""
        terms = [t for t in dict.fromkeys(terms) if _WORD.fullmatch(t)]  # safe to quote
        if not terms:
            return []
        match = " AND ".join(f'"{term}"' for term in terms)
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT chunks.source FROM header_fts "
                "JOIN chunks ON chunks.rowid = header_fts.rowid "
                "WHERE header_fts MATCH ? ORDER BY chunks.source",
                (match,),
            ).fetchall()
        return [source for (source,) in rows]

    def at_many(self, places: Iterable[tuple[str, int]]) -> dict[tuple[str, int], ChunkRow]:
        """:meth:`at` for many (source, chunk_index) places in one lookup a slice; a place
        with no chunk is left out."""
        places = list(dict.fromkeys(places))
        found: dict[tuple[str, int], tuple[int, ChunkRow]] = {}
        with self._lock:
            for part in _slices(places):
                pairs = ",".join("(?, ?)" for _ in part)
                values = [value for place in part for value in place]
                for rowid, *row in self._db.execute(
                    "SELECT rowid, id, source, chunk_index, page, chars FROM chunks "
                    f"WHERE (source, chunk_index) IN (VALUES {pairs})",
                    values,
                ):
                    place = (row[1], row[2])
                    if place not in found or rowid > found[place][0]:  # the newest, as at()
                        found[place] = (rowid, ChunkRow(*row))
        return {place: row for place, (_, row) in found.items()}

    def ids(self) -> Iterator[str]:
        """Every indexed id, read in pages."""
        last = -1
        while True:
            with self._lock:
                page = self._db.execute(
                    "SELECT rowid, id FROM chunks WHERE rowid > ? ORDER BY rowid LIMIT 5000",
                    (last,),
                ).fetchall()
            if not page:
                return
            last = page[-1][0]
            yield from (id_ for _, id_ in page)

    def chunk_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def document_count(self, contains: str = "") -> int:
        with self._lock:
            return self._db.execute(
                "SELECT count(DISTINCT source) FROM chunks WHERE instr(lower(source), ?) > 0",
                (contains.lower(),),
            ).fetchone()[0]

    def documents(
        self, *, contains: str = "", offset: int = 0, limit: int | None = None
    ) -> list[DocumentRow]:
        """Documents by name (those whose name contains ``contains``), one page of them."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, max(path), count(*), max(ingested_at) FROM chunks "
                "WHERE instr(lower(source), ?) > 0 GROUP BY source ORDER BY source "
                "LIMIT ? OFFSET ?",
                (contains.lower(), -1 if limit is None else limit, offset),
            ).fetchall()
        return [DocumentRow(*row) for row in rows]
