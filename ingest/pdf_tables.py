"""Tables of a PDF page written back as markdown tables.

pypdf's plain text runs a table's cells together ("fp16 / bf16 2 16 GB 140 GB"), so nothing
tells which number is in which column. Its layout mode keeps each cell where it stands on the
page: lines whose cells start in the same columns are a table. Those lines of the plain text
are written as a markdown table, which the sentence splitter reads row by row with the header
("Precision: fp16 / bf16; 8B model: 16 GB; ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Cells of a layout line: runs of words, apart by at least two spaces.
_CELL = re.compile(r"\S+(?: \S+)*")
#: A table has at least this many columns and this many lines (its header and two rows).
MIN_COLUMNS = 3
MIN_LINES = 3
#: Cells of one column start within this many characters of each other.
COLUMN_SLACK = 2


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
    run: list[list[tuple[int, str]]] = []

    def close() -> None:
        if len(run) >= MIN_LINES:
            header, *rows = ([text for _, text in cells] for cells in run)
            tables.append(AlignedTable(header, rows))
        run.clear()

    for line in layout.splitlines():
        cells = _cells(line)
        if len(cells) < MIN_COLUMNS:
            close()
            continue
        starts = [start for start, _ in cells]
        if run and not _aligned(starts, [start for start, _ in run[0]]):
            close()
        run.append(cells)
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
