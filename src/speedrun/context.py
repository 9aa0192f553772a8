"""The run context: what the steps of one run share, and the one thing every step takes.

A step is one function of a `RunContext` and of what the step before it returned — the same function for the
command line, the wheel's entry points, the job scripts, the notebook API and `speedrun run`, whose runner
(`flow`) decides which steps run and calls them in order on one context. The context holds only what every step
shares: the Spark session, the config, the run's options and tables; the rows read or written in this process,
by table role; the version of each table the run works on; and the writer. A step alone (`speedrun prepare`)
commits each write at once; inside `run` (`background=True`) writes go on in threads while the next step starts,
and the context waits for them when it closes: a failed write fails the run before it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from speedrun.config import Config
from speedrun.edges.background import BackgroundWrites, Lineage
from speedrun.edges.delta_log import Commit
from speedrun.edges.tables import Tables
from speedrun.edges.up_to_date import bronze_behind
from speedrun.transforms.splits import SPLITS, rows_of


@dataclass(frozen=True)
class RunOptions:
    """What the command asked of the run: its id (train names it, evaluate finds it), where the metrics JSON
    goes, whether train tunes (and for how long), and whether an up-to-date silver may be reused."""

    run_id: str | None = None
    metrics_out: str | None = None
    tune: bool = False
    budget: float | None = None
    reuse_silver: bool = False
    target: str | None = None  # the bundle target that runs it (--bundle-target, else SPEEDRUN_TARGET)
    git_commit: str | None = None  # the commit it was deployed from (--git-commit, else SPEEDRUN_GIT_COMMIT)


@dataclass
class RunContext:
    spark: SparkSession
    cfg: Config
    options: RunOptions = field(default_factory=RunOptions)
    background: bool = False  # writes in threads while the run goes on (`run`), or each committed at once
    versions: dict[str, int] = field(default_factory=dict)  # the version of each table this run works on
    rows: dict[str, DataFrame] = field(default_factory=dict)  # rows in hand, by table role

    def __post_init__(self) -> None:
        self.tables = Tables(self.cfg)
        self.writes = BackgroundWrites(self.tables, announce=self.background)
        self.cached: list[DataFrame] = []

    @property
    def tuning(self) -> bool:
        """Whether the run's model comes from a search (`speedrun tune`, or a config with a `search:` section)."""
        return self.options.tune or self.cfg.search is not None

    def write(self, role: str, rows: DataFrame, lineage: Lineage = None) -> None:
        """Write `rows` to `role`'s table as one commit: at once, or in the background inside `run`."""
        self.write_all({role: rows}, lineage)

    def write_all(self, tables: dict[str, DataFrame], lineage: Lineage = None) -> None:
        """Write several tables, one commit each, side by side: done when this returns, or in the background
        inside `run`. A failed write fails the call once all have ended; the others are committed."""
        for role, rows in tables.items():
            self.writes.submit(role, rows, lineage)
        if not self.background:
            self.writes.wait(list(tables))

    def later(self, name: str, work: Callable[[], Any], lane: str = "tables") -> Any:
        """Work with an outcome of its own (a record, MLflow logging): done now, its outcome returned, or in the
        background inside `run` (None: `writes.result(name)` once done)."""
        self.writes.later(name, work, lane)
        return None if self.background else self.writes.result(name)

    def commit(self, role: str) -> Commit:
        """The commit this run's write of `role` made (waiting for it)."""
        return self.writes.commit(role)

    def version(self, role: str) -> int:
        """The version of `role` this run works on: the one it wrote (waiting for the write), or read, else the
        latest, which is then the one for the rest of the run."""
        if role in self.writes.pending:
            return self.writes.commit(role).version
        if role not in self.versions:
            self.versions[role] = self.tables.version(self.spark, role)
        return self.versions[role]

    def wrote(self, role: str) -> bool:
        return role in self.writes.pending

    def hold(self, role: str, rows: DataFrame, cache: bool = True) -> DataFrame:
        """Keep `rows` in hand as `role`'s rows for the steps after this one (cached, unless asked not to)."""
        if cache:
            rows = rows.persist()
            self.cached.append(rows)
        self.rows[role] = rows
        return rows

    def read(self, role: str) -> DataFrame:
        """`role`'s rows as this run has them: in hand, else read at `version(role)` (and held, not cached: a
        Delta table's columns are read as a step needs them, and a cache of many rows spills)."""
        if role not in self.rows:
            self.rows[role] = self.tables.read(self.spark, role, self.version(role))
        return self.rows[role]

    def split_rows(self) -> dict[str, DataFrame]:
        """The rows of each split: silver's, by `_split`; with a given test file, test is silver_test's."""
        silver = self.read("silver")
        silver_test = self.read("silver_test") if self.cfg.test_source is not None else None
        return {name: rows_of(silver, name, silver_test) for name in SPLITS}

    def split_versions(self) -> dict[str, int]:
        """The table version each split's rows come from."""
        test = "silver_test" if self.cfg.test_source is not None else "silver"
        return {"train": self.version("silver"), "validation": self.version("silver"), "test": self.version(test)}

    def bronze_version(self) -> int | None:
        """The bronze version behind the silver this run works on."""
        if self.wrote("bronze") or "bronze" in self.versions:
            return self.version("bronze")
        return bronze_behind(self.spark, self.tables, self.version("silver"))

    def close(self, failed: bool = False) -> None:
        """Wait for every write (raising the first failure, unless the run failed already), then free what is
        cached."""
        try:
            self.writes.close(wait=not failed)
        finally:
            for rows in self.cached:
                rows.unpersist()
            self.cached.clear()

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, kind: type | None, *_: object) -> None:
        self.close(failed=kind is not None)
