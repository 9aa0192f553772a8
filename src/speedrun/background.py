"""Work that runs in threads while a run goes on: table writes (each one commit) and MLflow logging.

`run` commits bronze and silver while the model is fitted on the same rows in memory, and logs the model to
MLflow and records the run while the test rows are scored. Writes run side by side; MLflow calls run one after
another in their own lane (one store, one run: the order of its calls is kept).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from pyspark.sql import DataFrame

from speedrun.delta_log import Commit
from speedrun.progress import say
from speedrun.tables import Tables

Lineage = dict[str, int | str] | Callable[[], dict[str, int | str]] | None


class BackgroundWrites:
    """Table writes, and other work, that run in threads while the caller goes on. Each write is one commit, as
    with `Tables.write`; a write whose lineage is a function waits for what it names (the versions of writes
    submitted before it). Leaving the `with` block waits for everything; the first failure is raised then, or
    by `commit(role)` and `result(name)`."""

    def __init__(self, tables: Tables, announce: bool = True) -> None:
        self.tables, self.announce = tables, announce
        self.pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="speedrun-write")
        self.tracking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speedrun-tracking")
        self.pending: dict[str, Future[Any]] = {}

    def later(self, name: str, work: Callable[[], Any], lane: str = "tables") -> None:
        """Run `work` in the background: beside the writes, or in the `tracking` lane, after the MLflow work
        submitted before it."""
        self.pending[name] = (self.tracking if lane == "tracking" else self.pool).submit(work)

    def result(self, name: str) -> Any:
        return self.pending[name].result()

    def submit(self, role: str, df: DataFrame, lineage: Lineage = None) -> None:
        submitted = time.perf_counter()

        def write() -> Commit:
            commit = self.tables.write(df, role, lineage=lineage() if callable(lineage) else lineage)
            if self.announce:
                say(
                    f"{'write':<9} {role} v{commit.version}: {commit.rows:,} rows -> {self.tables.location(role)} "
                    f"({time.perf_counter() - submitted:.1f}s after it was queued)"
                )
            return commit

        self.pending[role] = self.pool.submit(write)

    def commit(self, role: str) -> Commit:
        """The commit of `role`'s write, once done."""
        return self.pending[role].result()

    def wait(self) -> dict[str, Any]:
        """Every write's commit (and other work's result), once all are done; the first failure is raised."""
        wait(list(self.pending.values()))
        return {role: future.result() for role, future in self.pending.items()}

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(self, *failure: object) -> None:
        try:
            if failure[0] is None:
                self.wait()
        finally:
            # a failed run still lets writes in flight end (each is one commit), and MLflow work
            self.pool.shutdown(wait=True)
            self.tracking.shutdown(wait=True)
