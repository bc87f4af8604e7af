"""The case-folder contract of DESIGN.md as data: tables, columns, types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # str, date, bool, int, float, enum
    nullable: bool = False
    choices: tuple[str, ...] = ()
    min: float | None = None  # inclusive lower bound
    above: float | None = None  # exclusive lower bound
    max: float | None = None  # inclusive upper bound
    optional: bool = False  # the header may leave it out (then every cell is null)


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        """The columns every file of this table has."""
        return tuple(c.name for c in self.columns if not c.optional)


SOURCE = Column("source", "str")

TABLES: tuple[Table, ...] = (
    Table("voyages", True, (
        Column("vessel", "str"),
        Column("origin_seen", "date", nullable=True),
        Column("destination_seen", "date", nullable=True),
        Column("evidence", "enum", choices=("imagery", "ais", "report")),
        Column("voyage_id", "str", nullable=True),
        SOURCE,
        # the site of each end it was seen at: required where case.yaml lists several
        Column("origin_site", "str", nullable=True, optional=True),
        Column("destination_site", "str", nullable=True, optional=True),
    )),
    Table("imagery", False, (
        Column("date", "date"),
        Column("site", "str"),
        Column("usable", "bool"),
        SOURCE,
    )),
    Table("containers", False, (
        Column("date", "date"),
        Column("site", "str"),
        Column("vessel", "str", nullable=True),
        Column("voyage_id", "str", nullable=True),
        Column("stage", "enum", choices=("loading", "unloading", "stacked")),
        Column("visible", "int", min=0),
        Column("coverage", "float", nullable=True, above=0.0, max=1.0),
        SOURCE,
    )),
    Table("depot", False, (
        Column("date", "date"),
        Column("site", "str"),
        Column("metric", "enum", choices=("filled_area_m2", "railcars", "containers")),
        Column("value", "float", min=0.0),
        Column("sd", "float", nullable=True, above=0.0),
        SOURCE,
    )),
    Table("claims", False, (
        Column("start", "date"),
        Column("end", "date"),
        Column("quantity", "enum", choices=("containers", "voyages")),
        Column("relation", "enum", choices=("about", "at_least", "at_most")),
        Column("value", "float", min=0.0),
        Column("confidence", "enum", choices=("low", "medium", "high")),
        SOURCE,
        # the route it is about (route networks): empty for any port of that end
        Column("origin_site", "str", nullable=True, optional=True),
        Column("destination_site", "str", nullable=True, optional=True),
    )),
)

TABLE_BY_NAME = {t.name: t for t in TABLES}
# `cargoinfer init` marks its example values and rows with this word (a value or a row's
# source that starts with it); `check` names each one as a problem until it is replaced
EXAMPLE = "EXAMPLE"
EXAMPLE_HINT = "an example from `cargoinfer init`: replace it"
CASE_FILE = "case.yaml"
