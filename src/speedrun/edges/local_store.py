"""A new local MLflow store made by copying an empty one, not by MLflow's schema migrations.

MLflow creates a SQLite store by running every one of its schema migrations (about 1.5 s, on every first run in
a work folder: each test's, each new project's). The empty store they end in is the same for one MLflow
version, so it is made once, in `~/.cache/speedrun/mlflow-stores`, and copied; the copy lacks only the default
experiment, which MLflow makes on opening, with the artifact root of the store it opens.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from speedrun.edges.jvm_cache import cache_folder


def empty_store(folder: Path | None = None) -> Path:
    """The empty store of this MLflow version, made on first use (atomically: two processes may both make it)."""
    import mlflow
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    folder = folder or cache_folder().parent / "mlflow-stores"
    store = folder / f"empty-{mlflow.__version__}.db"
    if not store.exists():
        folder.mkdir(parents=True, exist_ok=True)
        making = folder / f"{store.name}.{os.getpid()}.making"
        making.unlink(missing_ok=True)
        SqlAlchemyStore(f"sqlite:///{making}", (folder / "unused-artifacts").as_uri()).engine.dispose()
        with sqlite3.connect(making) as db:
            db.execute("DELETE FROM experiments WHERE experiment_id = 0")
        db.close()
        making.replace(store)
    return store


def create_store(path: Path, folder: Path | None = None) -> None:
    """A new store at `path` (which must not exist yet), copied from the empty one (kept in `folder`)."""
    made = path.with_name(f"{path.name}.{os.getpid()}.copying")
    shutil.copyfile(empty_store(folder), made)
    made.replace(path)
