"""The last stage of a registered model: each row's predicted class by name, decided at the model's threshold, in
the column `prediction`, which MLflow's clients read from a Spark model (`mlflow.pyfunc.load_model(...).predict`,
`mlflow.pyfunc.spark_udf`, `mlflow models predict`). `speedrun score` reads the same column: the standard MLflow
APIs and speedrun give the same predictions, by the same code."""

from __future__ import annotations

from pyspark.ml import PipelineModel, Transformer
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from speedrun.transforms.decision import decided

PREDICTED_CLASS = "prediction"  # MLflow's Spark flavour reads its predictions from this column


class DecidedClass(Transformer, DefaultParamsReadable, DefaultParamsWritable):
    """`prediction`: the class of each row by name (the classifier's prediction, or the positive class where its
    probability is at least `threshold`); the classifier's own columns are left as they are but its prediction,
    which becomes the decided one."""

    classes = Param(Params._dummy(), "classes", "the classes, in class-index order", TypeConverters.toListString)
    threshold = Param(Params._dummy(), "threshold", "the positive class's threshold", TypeConverters.toFloat)
    predictionCol = Param(Params._dummy(), "predictionCol", "the classifier's prediction", TypeConverters.toString)
    probabilityCol = Param(Params._dummy(), "probabilityCol", "the class probabilities", TypeConverters.toString)

    def __init__(self) -> None:
        super().__init__()

    def _transform(self, dataset: DataFrame) -> DataFrame:
        threshold = self.getOrDefault(self.threshold) if self.isDefined(self.threshold) else None
        prediction, probability = self.getOrDefault(self.predictionCol), self.getOrDefault(self.probabilityCol)
        rows = decided(dataset, threshold, probability, prediction)
        classes = F.array(*[F.lit(c) for c in self.getOrDefault(self.classes)])
        return rows.withColumn(PREDICTED_CLASS, F.element_at(classes, F.col(prediction).cast("int") + 1))


def decided_class(classes: list[str], threshold: float | None, outputs: tuple[str, str]) -> DecidedClass:
    """The stage for a model of `classes`, deciding at `threshold`, its classifier writing to `outputs`
    (prediction, probability columns)."""
    stage = DecidedClass()
    stage.set(stage.classes, list(classes))
    stage.set(stage.predictionCol, outputs[0])
    stage.set(stage.probabilityCol, outputs[1])
    if threshold is not None:
        stage.set(stage.threshold, float(threshold))
    return stage


def classifier_of(fitted: PipelineModel) -> Transformer:
    """A fitted pipeline's classifier: its last stage, or the one before its `DecidedClass`."""
    return fitted.stages[-2] if isinstance(fitted.stages[-1], DecidedClass) else fitted.stages[-1]


def classifier_outputs(fitted: PipelineModel) -> tuple[str, str]:
    """The columns a fitted pipeline's classifier writes its prediction and class probabilities to: speedrun's
    (`_prediction`, `_probability`), or Spark ML's defaults for a model registered by an earlier speedrun."""
    classifier = classifier_of(fitted)
    return classifier.getOrDefault("predictionCol"), classifier.getOrDefault("probabilityCol")


def deciding(fitted: PipelineModel, classes: list[str], threshold: float | None) -> PipelineModel:
    """`fitted` ending in its `DecidedClass` stage (as it is when it ends in one already: a registered model)."""
    if isinstance(fitted.stages[-1], DecidedClass):
        return fitted
    return PipelineModel(stages=[*fitted.stages, decided_class(classes, threshold, classifier_outputs(fitted))])
