"""A fitted pipeline saved in Spark ML's own folder layout (what `PipelineModel.load`, MLflow's Spark flavour and
Databricks read), with fewer Spark jobs.

Spark ML writes each stage with Spark jobs of its own (its metadata, then its data): about 14 small jobs for a
logistic regression's pipeline, seconds of a warm rerun. In the data scientist's loop (one model key changed) the
preprocessing stages are the very objects the run before fitted and saved (`edges.kept_inputs`): their folders,
kept from that save, are copied instead of written again; a Python stage's metadata (the pipeline's own, the
decision stage's) is written as the file Spark's writer would make. Only the classifier goes through Spark ML's
writer. That is done only where the model's folder is on this machine's file system; anywhere else (DBFS, a
Volume, a cluster's storage) every stage is written by Spark ML's writers, as `PipelineModel.save` does.

MLflow's Spark flavour saves a model in a staging folder (`MLFLOW_DFS_TMP`), copies it into the logged model's
folder through Hadoop's FileSystem and deletes the staged one; on this machine it is moved instead
(`moved_from_staging`).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from pyspark.ml import PipelineModel
from pyspark.ml.pipeline import PipelineSharedReadWrite
from pyspark.ml.util import DefaultParamsWriter, MLWriter
from pyspark.sql import SparkSession
from pyspark.sql.utils import is_remote

from speedrun.edges.session import on_databricks

ENTRIES = 16  # stage folders kept (a pipeline's preprocessing is 4-6 stages: the last two or three fits')


def local_folder(path: str, master: str) -> Path | None:
    """`path` as a folder of this machine, when Spark's writers would write it here: a local session's (`master`
    `local[...]`, off Databricks) `file:` path, or path without a scheme where no Hadoop configuration names
    another default file system; None otherwise."""
    if on_databricks() or not master.startswith("local"):
        return None
    parsed = urlparse(path)
    if parsed.scheme == "file":
        return Path(parsed.path)
    if parsed.scheme or any(name in os.environ for name in ("HADOOP_CONF_DIR", "YARN_CONF_DIR")):
        return None
    return Path(path)


def settings_of(stage) -> str:
    """A stage's settings as its saved metadata holds them."""
    return repr(sorted((p.name, repr(v)) for p, v in stage.extractParamMap().items()))


class SavedStages:
    """Folders of stages saved before in this process, by the stage object (held, so that its identity is not
    another's) and its settings; the least recently used let go beyond `entries`."""

    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self.folders: OrderedDict[int, tuple[object, str, Path]] = OrderedDict()
        self.lock = threading.Lock()
        self.root: Path | None = None
        self.numbers = itertools.count()

    def saved(self, stage, folder: Path) -> bool:
        """Copy `stage`'s earlier saved folder to `folder`; False when there is none."""
        with self.lock:
            kept = self.folders.get(id(stage))
            if kept is None or kept[0] is not stage or kept[1] != settings_of(stage) or not kept[2].is_dir():
                return False
            self.folders.move_to_end(id(stage))
        shutil.copytree(kept[2], folder)
        return True

    def keep(self, stage, folder: Path) -> None:
        """Keep a copy of `stage`'s folder as it was just saved, for the next save of the same stage."""
        with self.lock:
            if self.root is None:
                self.root = Path(tempfile.mkdtemp(prefix=f"speedrun-stages-{os.getpid()}-"))
                atexit.register(self.clear)
                remove_left_behind(self.root.parent)
            copy = self.root / f"{next(self.numbers)}-{stage.uid}"  # fits of one estimator share its uid
        shutil.copytree(folder, copy)
        with self.lock:
            self.folders[id(stage)] = (stage, settings_of(stage), copy)
            while len(self.folders) > self.entries:
                shutil.rmtree(self.folders.popitem(last=False)[1][2], ignore_errors=True)

    def clear(self) -> None:
        """Let every kept folder go (at the process's exit, or the server's stop, which skips `atexit`)."""
        with self.lock:
            self.folders.clear()
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None


def remove_left_behind(folder: Path) -> None:
    """The kept-stage folders of processes that no longer run (a server that was killed) in `folder`."""
    for left in folder.glob("speedrun-stages-*-*"):
        pid = left.name.split("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(left, ignore_errors=True)


SAVED = SavedStages()  # this process's: the warm server's, between its commands


class PipelineModelWithKeptStages(PipelineModel):
    """A `PipelineModel` whose first `kept` stages (its preprocessing) are copied from their earlier save in this
    process when saved again (`SAVED`). Loaded back, it is a plain `PipelineModel`."""

    def __init__(self, stages: list, kept: int) -> None:
        super().__init__(stages=stages)
        self.kept = kept

    def write(self) -> MLWriter:
        return FewerJobsWriter(self)


def with_kept_stages(model: PipelineModel, kept: int) -> PipelineModel:
    """`model` (the same stages, the same uid), saved with its first `kept` stages copied where they were saved
    before; as it is on Databricks and over Spark Connect (whose own writers save it)."""
    if on_databricks() or is_remote():
        return model
    return PipelineModelWithKeptStages(model.stages, kept)._resetUid(model.uid)


class FewerJobsWriter(MLWriter):
    """Spark ML's pipeline layout (`metadata/`, `stages/<index>_<uid>/`), written as `PipelineModel`'s own
    writer writes it, each stage kept or copied as the module says."""

    def __init__(self, instance: PipelineModelWithKeptStages) -> None:
        super().__init__()
        self.instance = instance

    def saveImpl(self, path: str) -> None:
        stages, spark = self.instance.stages, self.sparkSession
        PipelineSharedReadWrite.validateStages(stages)
        folder = local_folder(path, spark.conf.get("spark.master", ""))
        plain = PipelineModel(stages=stages)._resetUid(self.instance.uid)
        if folder is None:
            PipelineSharedReadWrite.saveImpl(plain, stages, spark, path)
            return
        write_metadata(plain, folder, spark, {"stageUids": [s.uid for s in stages], "language": "Python"})
        for index, stage in enumerate(stages):
            stage_path = PipelineSharedReadWrite.getStagePath(stage.uid, index, len(stages), str(folder / "stages"))
            if index < self.instance.kept:
                if not SAVED.saved(stage, Path(stage_path)):
                    stage.write().save(stage_path)
                    SAVED.keep(stage, Path(stage_path))
            elif type(stage.write()) is DefaultParamsWriter:  # a Python stage of settings only
                write_metadata(stage, Path(stage_path), spark)
            else:
                stage.write().save(stage_path)


def write_metadata(instance, folder: Path, spark: SparkSession, params: dict | None = None) -> None:
    """The `metadata` folder `DefaultParamsWriter.saveMetadata` writes with a Spark job (one text file of one
    JSON line, and `_SUCCESS`), written here as files."""
    metadata = folder / "metadata"
    metadata.mkdir(parents=True)
    text = DefaultParamsWriter._get_metadata_to_save(instance, spark, paramMap=params)
    (metadata / "part-00000").write_text(text + "\n")
    (metadata / "_SUCCESS").touch()


STAGING = threading.Lock()  # one model logged at a time while MLflow's copy is replaced


@contextmanager
def moved_from_staging(master: str) -> Iterator[None]:
    """While MLflow's Spark flavour logs a model: the staged folder it would copy file by file (half of a warm
    rerun's `log_model`), then delete, moved instead (one rename), where a session of `master` staged it on this
    machine (`local_folder`); anywhere else, or with an MLflow that copies otherwise, MLflow's own copy."""
    import mlflow.spark

    hadoop = getattr(mlflow.spark, "_HadoopFileSystem", None)
    own = vars(hadoop).get("copy_to_local_file") if hadoop is not None else None
    if own is None or on_databricks() or is_remote():
        yield
        return
    copy = hadoop.copy_to_local_file

    def move(cls, src: str, dst: str, remove_src: bool) -> None:
        staged = local_folder(src, master)
        if staged is None or not remove_src or not staged.is_dir():
            return copy(src, dst, remove_src)
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, dst)

    with STAGING:
        hadoop.copy_to_local_file = classmethod(move)
        try:
            yield
        finally:
            hadoop.copy_to_local_file = own
