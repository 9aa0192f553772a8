"""The test rows' feature scales (by which the report weighs a linear model's coefficients) kept between runs in
one process: made once for models that share their fitted preprocessing, equal to a pass of their own."""

from __future__ import annotations

from speedrun.edges.kept_inputs import KeptInputs
from speedrun.edges.kept_scales import KeptScales
from speedrun.edges.session import spark_jobs_counter
from speedrun.edges.tables import read_split
from speedrun.transforms.fit import fit
from speedrun.transforms.outcome import feature_scales, feature_weights


def fitted(spark, cfg, kept: KeptInputs, reg: float, scale: bool | None = None):
    """A two-iteration fit of the shared run's training rows with `reg`, preprocessing kept in `kept`."""
    features = cfg.features if scale is None else cfg.features.model_copy(update={"scale": scale})
    model = cfg.model.model_copy(update={"max_iter": 2, "reg_param": reg})
    return fit(read_split(spark, cfg, "train"), model, features, cfg.train.partitions, keeping=kept)


def test_models_that_share_their_preprocessing_weigh_by_scales_made_once(spark, trained) -> None:
    # GIVEN two models that share the kept preprocessing (one model key changed), and the test rows from silver
    cfg, _ = trained
    kept, scales = KeptInputs(), KeptScales()
    first, second = fitted(spark, cfg, kept, 0.0), fitted(spark, cfg, kept, 0.3)
    jobs = spark_jobs_counter(spark)
    try:
        test = read_split(spark, cfg, "test")
        feature_weights(first, first.transform(test), scales.of(test))
        # WHEN the second's weights are made on a new read of the same test rows
        again = read_split(spark, cfg, "test")
        before = jobs()
        weights = feature_weights(second, second.transform(again), scales.of(again))
        # THEN no pass over the rows was made for them, and they are what a pass of their own gives
        assert jobs() == before
        assert weights == feature_weights(second, second.transform(again), feature_scales)
        assert weights[0] == "standardized coefficient" and len(weights[1]) > 5
    finally:
        kept.clear()


def test_other_preprocessing_or_rows_made_in_memory_get_a_pass_of_their_own(spark, trained) -> None:
    # GIVEN the scales kept for a model, and a model whose preprocessing is another (scaled features)
    cfg, _ = trained
    kept, scales = KeptInputs(), KeptScales()
    plain, scaled = fitted(spark, cfg, kept, 0.0), fitted(spark, cfg, kept, 0.0, scale=not cfg.features.scale)
    jobs = spark_jobs_counter(spark)
    try:
        test = read_split(spark, cfg, "test")
        feature_weights(plain, plain.transform(test), scales.of(test))
        # WHEN the other model's weights are made on the same test rows
        before = jobs()
        weights = feature_weights(scaled, scaled.transform(test), scales.of(test))
        # THEN its features' scales come from a pass of their own (two entries kept), as a plain pass gives them
        assert jobs() > before and len(scales.kept) == 2
        assert weights == feature_weights(scaled, scaled.transform(test), feature_scales)
        # AND rows made in memory are not kept: each report makes its pass
        assert scales.of(spark.createDataFrame(test.limit(5).collect(), test.schema)) is feature_scales
    finally:
        kept.clear()
