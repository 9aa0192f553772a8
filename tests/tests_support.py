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
