"""A config's YAML: a file on disk (its `./` paths relative to its own folder) or a config packaged with speedrun,
and the `key=value` overrides of `--set`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from speedrun.errors import SpeedrunError

PACKAGED_CONFIGS = ("default",)
PATH_KEYS = (("source", "path"), ("test_source", "path"), ("scoring", "path"), ("storage", "work_dir"))


# libyaml's parser where PyYAML was built with it (the same safe types; several times faster to read)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def relative_to(folder: Path, data: dict[str, Any]) -> None:
    """A config file's `./x` and `../x` paths are relative to the file's own folder (wherever speedrun runs,
    and wherever a bundle syncs the file); on Databricks a workspace file is read by Spark as `file:/Workspace/...`."""
    for section, key in PATH_KEYS:
        node = data.get(section)
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str) and value.startswith(("./", "../")):
            resolved = str((folder / value).resolve())
            node[key] = f"file:{resolved}" if resolved.startswith("/Workspace/") else resolved


def read_yaml(source: str) -> tuple[str, dict[str, Any]]:
    """Read a config file, or a config packaged with speedrun, as a dict. Returns (where, data)."""
    path = Path(source.removeprefix("file:"))
    if path.is_file():
        text, where = path.read_text(), str(path)
    elif source in PACKAGED_CONFIGS:
        text = resources.files("speedrun.conf").joinpath(f"{source}.yml").read_text()
        where = f"packaged config '{source}'"
    else:
        raise SpeedrunError(
            f"config file not found: {source} (give a YAML file, or a packaged config: {', '.join(PACKAGED_CONFIGS)})"
        )
    try:
        data = yaml.load(text, Loader=LOADER) or {}
    except yaml.YAMLError as exc:
        raise SpeedrunError(f"{where} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise SpeedrunError(f"{where} must be a YAML mapping of keys to values")
    if path.is_file():
        relative_to(path.absolute().parent, data)
    return where, data


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `dotted.key=value` override in place; the value is parsed as YAML (`50`, `true`, `[a, b]`)."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise SpeedrunError(f"--set expects key=value, got {assignment!r}")
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SpeedrunError(f"--set {key}: {part} is a value, not a section")
        node = child
    node[parts[-1]] = yaml.load(raw, Loader=LOADER) if raw.strip() else None
