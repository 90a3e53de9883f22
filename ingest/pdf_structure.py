"""What a PDF page's plain text loses, written back as markdown: its tables and headings.

pypdf's plain text runs a table's cells together ("fp16 / bf16 2 16 GB 140 GB"), so nothing
tells which number is in which column. Its layout mode keeps each cell where it stands on the
page: lines whose cells start in the same columns are a table. Those lines of the plain text
are written as a markdown table, which the sentence splitter reads row by row with the header
("Precision: fp16 / bf16; 8B model: 16 GB; ...").

A heading is set in a larger font than the body; in the plain text it is one more line, which
the sentence splitter runs into the sentence after it ("bitsandbytes (transformers on a GPU)
The bitsandbytes library ..."). Lines set in a larger font are written as markdown headings,
the largest size first ("#", "##", ...), so each sentence is read under its heading.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

#: Cells of a layout line: runs of words, apart by at least two spaces.
_CELL = re.compile(r"\S+(?: \S+)*")
#: A table has at least this many columns and this many lines (its header and two rows).
MIN_COLUMNS = 3
MIN_LINES = 3
#: Cells of one column start within this many characters of each other.
COLUMN_SLACK = 2
#: A heading's font is at least this much larger than the body's (12 pt over 10.5 pt).
HEADING_SCALE = 1.1
#: The deepest heading level written.
MAX_HEADING_LEVEL = 4


@dataclass(frozen=True)
class AlignedTable:
    """A header and its rows, each a list of cells."""

    header: list[str]
    rows: list[list[str]]

    def plain_lines(self) -> list[str]:
        """The table's lines as the plain text writes them: cells joined by one space."""
        return [" ".join(cells) for cells in [self.header, *self.rows]]

    def markdown(self) -> list[str]:
        lines = [self.header, ["---"] * len(self.header), *self.rows]
        return ["| " + " | ".join(cells) + " |" for cells in lines]


def _cells(line: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in _CELL.finditer(line)]


def _aligned(starts: list[int], other: list[int]) -> bool:
    """Whether two lines' cells stand the same distances apart (measured from each line's
    first cell: the layout may indent a whole line, as it does a header printed after a
    paragraph)."""
    return len(starts) == len(other) and all(
        abs((a - starts[0]) - (b - other[0])) <= COLUMN_SLACK
        for a, b in zip(starts, other, strict=True)
    )


def aligned_tables(layout: str) -> list[AlignedTable]:
    """The tables of a page's layout text: runs of lines whose cells stand the same distances
    apart (at least :data:`MIN_COLUMNS` of them, over :data:`MIN_LINES` lines)."""
    tables = []
    run: list[list[str]] = []  # the cells of each line of the table being read
    first: list[int] = []  # where the cells of its first line start

    def close() -> None:
        if len(run) >= MIN_LINES:
            tables.append(AlignedTable(run[0], run[1:]))
        run.clear()

    for line in layout.splitlines():
        cells = _cells(line)
        if len(cells) < MIN_COLUMNS:
            close()
            continue
        starts = [start for start, _ in cells]
        if run and not _aligned(starts, first):
            close()
        if not run:
            first = starts
        run.append([text for _, text in cells])
    close()
    return tables


def with_markdown_tables(plain: str, layout: str) -> str:
    """``plain`` with the lines of each table found in ``layout`` written as a markdown
    table; a table whose lines the plain text doesn't hold in order is left as it is."""
    lines = plain.splitlines()
    for table in aligned_tables(layout):
        wanted = table.plain_lines()
        for i in range(len(lines) - len(wanted) + 1):
            if [line.strip() for line in lines[i : i + len(wanted)]] == wanted:
                # Blank lines around it: a table opens a block of its own.
                lines[i : i + len(wanted)] = ["", *table.markdown(), ""]
                break
    return "\n".join(lines)


def heading_levels(runs: list[tuple[float, str]]) -> dict[str, int]:
    """Each line set in a larger font than the body (the size most letters are set in) -> its
    heading level, the largest size 1. ``runs``: (font size, text) of the text runs of the
    whole document, as pypdf's visitor gives them: one page may hold no body text, or no
    title."""
    letters: Counter[float] = Counter()
    for size, text in runs:
        letters[size] += len(text.strip())
    if not letters:
        return {}
    body = letters.most_common(1)[0][0]
    sizes = sorted({size for size in letters if size >= body * HEADING_SCALE}, reverse=True)
    levels = {size: min(i + 1, MAX_HEADING_LEVEL) for i, size in enumerate(sizes)}
    return {text.strip(): levels[size] for size, text in runs if size in levels and text.strip()}


def with_headings(plain: str, levels: dict[str, int]) -> str:
    """``plain`` with each line that is a heading (``levels``) written as a markdown one."""
    lines = []
    for line in plain.splitlines():
        level = levels.get(line.strip())
        lines.extend(["", f"{'#' * level} {line.strip()}", ""] if level else [line])
    return "\n".join(lines)
