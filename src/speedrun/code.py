"""speedrun's own code, known by its content."""

from __future__ import annotations

import hashlib
from pathlib import Path


def code_hash(package: Path | None = None) -> str:
    """speedrun's modules as installed, by content: what `__version__` says of a release, this says of a checkout
    (the warm server is replaced when it differs; silver is cleaned again, since other code may clean otherwise)."""
    digest = hashlib.sha256()
    package = package or Path(__file__).parent
    for module in sorted(package.rglob("*.py")):
        digest.update(str(module.relative_to(package)).encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()
