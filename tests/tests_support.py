"""Paths shared by the tests."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> str:
    """`text` in a file at `path` (folders made), whose path is returned."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def csv_config(tmp_path: Path, source: str, *overrides: str):
    """The default config on a CSV of your own: label `y`, no id, nothing generated."""
    from speedrun.config import load_config

    return load_config(
        "default",
        [
            f"storage.work_dir={tmp_path}",
            f"source.path={source}",
            "source.generate_if_missing=null",
            "columns={id: null, label: {column: y}}",
            *overrides,
        ],
    )


def alone(step, spark, cfg, *args, **options):
    """`step` run alone, as `speedrun <step>` runs it (its writes committed as it goes), on a context of its own
    with `options` (`RunOptions`); its result."""
    from speedrun.context import RunContext, RunOptions

    with RunContext(spark, cfg, RunOptions(**options)) as ctx:
        return step(ctx, *args)


def fit_with(cfg, rows):
    """The pipeline of `cfg`'s model and features, fitted on `rows` in its fixed layout."""
    from speedrun.transforms.fit import fit

    return fit(rows, cfg.model, cfg.features, cfg.train.partitions)
