"""Problems found in a case folder, reported as `file:row:column: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    row: int | None = None  # spreadsheet row: the header is row 1
    column: str | None = None
    message: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(str(self.row))
        if self.column is not None:
            where.append(self.column)
        return printable(f"{':'.join(where)}: {self.message}")


def printable(text: str) -> str:
    """One line, whatever a cell held: control characters and lone surrogates escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class CaseInvalid(Exception):
    """A case folder that breaks the contract; carries every problem found."""

    def __init__(self, folder: str, problems: list[Problem]):
        self.folder = folder
        self.problems = problems
        super().__init__(f"{folder}: {len(problems)} problem(s)")

    def report(self) -> str:
        lines = [str(p) for p in self.problems]
        n = len(self.problems)
        lines.append(f"{self.folder}: refused, {n} problem{'s' if n != 1 else ''}")
        return "\n".join(lines)
