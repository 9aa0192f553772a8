"""The classifier's inputs of the latest fits, kept in the process between runs: the training rows laid out,
preprocessed (imputed, indexed, encoded, assembled, scaled) and cached, with the fitted preprocessing.

In the data scientist's loop (one model key changed, run again in the warm server) the training rows and the
preprocessing are those of the run before: only the classifier is fitted again. What is kept is what `fit` would
make again, bit for bit: the same rows (a Delta table at one version: the key names the table and the version of
every table the rows are read from), the same preprocessing settings, partitions and class weights. Rows not read
from Delta tables (made in memory) are not kept, and neither are more than `MAX_ROWS` rows (they would crowd the
heap); at most `ENTRIES` fits are kept, the least recently used let go.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from py4j.protocol import Py4JError
from pyspark.sql import DataFrame

from speedrun.transforms.fit import Preprocessed

MAX_ROWS = 200_000
ENTRIES = 2


class KeptInputs:
    def __init__(self, max_rows: int = MAX_ROWS, entries: int = ENTRIES) -> None:
        self.max_rows, self.entries = max_rows, entries
        self.kept: OrderedDict[str, Preprocessed] = OrderedDict()
        self.lock = threading.Lock()

    def prepared(
        self, training: DataFrame, settings: str, make: Callable[[], Preprocessed]
    ) -> tuple[Preprocessed, bool]:
        """The preprocessing of `training` with `settings` (the preprocessing stages' classes and params, the
        layout, the weights): kept from an earlier fit, or made now (and kept when it may be); whether it is kept
        (a kept one is not the caller's to unpersist)."""
        data = delta_versions(training)
        if data is None:
            return make(), False
        key = f"{training.semanticHash()}|{data}|{settings}"
        with self.lock:
            if key in self.kept:
                self.kept.move_to_end(key)
                return self.kept[key], True
        made = make()
        if made[2] > self.max_rows:
            return made, False
        with self.lock:
            self.kept[key] = made
            while len(self.kept) > self.entries:
                _, (_, rows, _) = self.kept.popitem(last=False)
                rows.unpersist()
        return made, True

    def clear(self) -> None:
        with self.lock:
            for _, rows, _ in self.kept.values():
                rows.unpersist()
            self.kept.clear()


def delta_versions(df: DataFrame) -> str | None:
    """The table and version of each Delta table `df` reads (its file indexes, e.g. `Delta[version=3, file:/..]`);
    None when it reads anything else (rows made in memory, files that are not a Delta table)."""
    leaves = df._jdf.queryExecution().analyzed().collectLeaves()  # the optimized plan costs a Spark job
    found = []
    for i in range(leaves.size()):
        leaf = leaves.apply(i)
        if leaf.getClass().getSimpleName() != "LogicalRelation":
            return None
        try:
            location = leaf.relation().location().toString()
        except Py4JError:  # a relation that is not of files (JDBC, ...)
            return None
        if not location.startswith("Delta[version="):
            return None
        found.append(location)
    return ";".join(sorted(found))


KEPT = KeptInputs()  # this process's: the warm server's, between its commands
