"""The feature scales of a run's test rows (each assembled feature's standard deviation, by which the report
weighs a linear model's coefficients), kept in the process between runs.

In the data scientist's loop (one model key changed, run again in the warm server) the test rows are those of the
run before and the fitted preprocessing is the very one it used (`edges.kept_inputs`): the features are the same,
and so are their scales, so the report's pass over the test rows is made once. Kept by the test rows (their plan
and the Delta version of every table they read) and the preprocessing stages (held, so that their identity is
not another's); rows not read from Delta tables are not kept; the latest `ENTRIES`.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict

import numpy as np
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from speedrun.edges.kept_inputs import delta_versions
from speedrun.transforms.decided_class import classifier_of
from speedrun.transforms.outcome import Scales, feature_scales

ENTRIES = 4


def preprocessing_of(model: PipelineModel) -> tuple:
    """The stages before the classifier: what makes the features."""
    classifier = classifier_of(model)
    return tuple(itertools.takewhile(lambda stage: stage is not classifier, model.stages))


class KeptScales:
    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self.kept: OrderedDict[tuple, tuple[tuple, np.ndarray]] = OrderedDict()
        self.lock = threading.Lock()

    def of(self, test: DataFrame) -> Scales:
        """The scales of `test`'s features under a model's preprocessing: kept from an earlier run, or made now
        (`outcome.feature_scales`, one Spark job) and kept."""
        data = delta_versions(test)
        if data is None:
            return feature_scales
        rows = f"{test.semanticHash()}|{data}"

        def scales(model: PipelineModel, predictions: DataFrame) -> np.ndarray:
            preprocessing = preprocessing_of(model)
            key = (rows, *map(id, preprocessing))
            with self.lock:
                kept = self.kept.get(key)
                if kept is not None and all(a is b for a, b in zip(kept[0], preprocessing, strict=True)):
                    self.kept.move_to_end(key)
                    return kept[1]
            made = feature_scales(model, predictions)
            with self.lock:
                self.kept[key] = (preprocessing, made)
                while len(self.kept) > self.entries:
                    self.kept.popitem(last=False)
            return made

        return scales


KEPT_SCALES = KeptScales()  # this process's: the warm server's, between its commands
