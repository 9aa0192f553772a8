"""Paths shared by the tests."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the tests' search: two logistic regressions and an xgboost (`tuned` in conftest)
SEARCH = (
    "search={candidates: [{type: logistic_regression, reg_param: [0.0, 0.1], max_iter: 30},"
    " {type: xgboost, max_depth: 3, n_estimators: 20, num_workers: 1}]}"
)


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


def alone(step, spark, cfg, *args, versions: dict | None = None, **given):
    """`step` run alone, as `speedrun <step>` runs it (its writes committed as it goes), on a context of its own:
    `given` holds the run's options (`RunOptions`: run_id, metrics_out, ...) and the step's own arguments;
    `versions` the table versions the run works on (default: the latest). Its result."""
    from dataclasses import fields

    from speedrun.context import RunContext, RunOptions

    names = {f.name for f in fields(RunOptions)}
    options = RunOptions(**{k: v for k, v in given.items() if k in names})
    with RunContext(spark, cfg, options, versions=dict(versions or {})) as ctx:
        return step(ctx, *args, **{k: v for k, v in given.items() if k not in names})


def fit_with(cfg, rows):
    """The pipeline of `cfg`'s model and features, fitted on `rows` in its fixed layout."""
    from speedrun.transforms.fit import fit

    return fit(rows, cfg.model, cfg.features, cfg.train.partitions)


def until_the_server_is_idle(seconds: float = 300.0) -> None:
    """Wait until the tests' speedrun server has ended its command: a run answers once its metrics are printed,
    and the server then finishes the model's save and the run's records."""
    import time

    from speedrun.server.state import alive, ask, read_state, server_dir

    deadline = time.monotonic() + seconds
    while True:
        status, state = ask(server_dir(), {"op": "status"}), read_state(server_dir())
        if (status is not None and not status["running"]) or state is None or not alive(state["pid"]):
            return
        assert time.monotonic() < deadline, f"the server is still busy: {status}"
        time.sleep(0.1)
