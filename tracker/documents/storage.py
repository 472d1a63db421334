"""Where generated files live: a folder every web and worker machine can read (a shared mount
in production), named by content hash so a repeated render writes the same single file."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class FolderStorage:
    def __init__(self, root: str):
        self.root = Path(root)

    def path_for(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError("bad file name")
        return self.root / name[:2] / name

    def save(self, data: bytes, suffix: str = ".pdf") -> tuple[str, str]:
        """Store the bytes; returns (sha256, file name). Writing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        name = digest + suffix
        target = self.path_for(name)
        if target.exists() and target.stat().st_size == len(data):
            return digest, name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # atomic: readers see the whole file or none
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return digest, name

    def read(self, name: str) -> bytes:
        return self.path_for(name).read_bytes()

    def exists(self, name: str) -> bool:
        return self.path_for(name).exists()
