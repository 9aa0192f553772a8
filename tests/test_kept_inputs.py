"""The training rows' preprocessing kept between fits in one process: a refit with another model key fits only
the classifier, on exactly what a fit from scratch would have made."""

from __future__ import annotations

from speedrun.edges.kept_inputs import KeptInputs, delta_versions
from speedrun.edges.tables import Tables, read_split
from speedrun.transforms.fit import fit


def coefficients(model) -> tuple[bytes, float]:
    classifier = model.stages[-1]
    return classifier.coefficients.toArray().tobytes(), classifier.intercept


def kept_preprocessing(kept: KeptInputs):
    return [entry[0] for entry in kept.kept.values()]


def quick(model):
    """The shared run's model section with two iterations: what is kept is the preprocessing, not the fit."""
    return model.model_copy(update={"max_iter": 2})


def test_a_refit_with_another_model_key_reuses_the_preprocessing_and_equals_a_fit_from_scratch(spark, trained):
    # GIVEN the shared run's training rows, read from silver, fitted once with a store of kept inputs
    cfg, _ = trained
    kept = KeptInputs()
    first = fit(read_split(spark, cfg, "train"), quick(cfg.model), cfg.features, cfg.train.partitions, keeping=kept)
    # WHEN the model is fitted again with another regularization, on a new read of the same silver version
    other = quick(cfg.model).model_copy(update={"reg_param": 0.3})
    again = fit(read_split(spark, cfg, "train"), other, cfg.features, cfg.train.partitions, keeping=kept)
    try:
        # THEN the preprocessing fitted first is the one used again: one entry, the same fitted stages
        [preprocessing] = kept_preprocessing(kept)
        assert again.stages[:-1] == first.stages[:-1] == preprocessing.stages
        # AND the model equals one fitted from scratch, bit for bit
        scratch = fit(read_split(spark, cfg, "train"), other, cfg.features, cfg.train.partitions)
        assert coefficients(again) == coefficients(scratch)
        assert coefficients(again) != coefficients(first)
    finally:
        kept.clear()


def test_other_preprocessing_settings_are_another_entry_and_the_oldest_is_let_go(spark, trained):
    # GIVEN a store that keeps one fit's inputs, holding the shared run's
    cfg, _ = trained
    kept = KeptInputs(entries=1)
    fit(read_split(spark, cfg, "train"), quick(cfg.model), cfg.features, cfg.train.partitions, keeping=kept)
    [(_, earlier, _)] = kept.kept.values()
    # WHEN the features are scaled otherwise
    scaled = cfg.features.model_copy(update={"scale": not cfg.features.scale})
    fit(read_split(spark, cfg, "train"), quick(cfg.model), scaled, cfg.train.partitions, keeping=kept)
    try:
        # THEN those inputs are another entry, and the earlier one's cache is freed
        [(_, latest, _)] = kept.kept.values()
        assert latest is not earlier
        assert not earlier.is_cached and latest.is_cached
    finally:
        kept.clear()
    assert not latest.is_cached


def test_rows_made_in_memory_or_too_many_rows_are_not_kept(spark, trained):
    # GIVEN rows made in memory, the shared run's training rows, and a store that keeps at most 10 rows
    cfg, _ = trained
    small = KeptInputs(max_rows=10)
    in_memory = spark.range(3)
    made = (None, in_memory, 3)
    # WHEN each is preprocessed through it
    from_memory = small.prepared(in_memory, "settings", lambda: made)
    fit(read_split(spark, cfg, "train"), quick(cfg.model), cfg.features, cfg.train.partitions, keeping=small)
    # THEN neither is kept: the rows made in memory are the caller's, as made
    assert from_memory == (made, False)
    assert small.kept == {}


def test_the_rows_of_a_delta_table_are_known_by_its_location_and_version(spark, trained):
    cfg, _ = trained
    tables = Tables(cfg)
    version = tables.version(spark, "silver")
    # GIVEN silver's train rows at its latest version, and rows made in memory
    rows = read_split(spark, cfg, "train", version)
    # THEN the first are known by silver's location and version, the second are not known
    assert delta_versions(rows) == f"Delta[version={version}, file:{tables.location('silver')}]"
    assert delta_versions(spark.range(3)) is None
