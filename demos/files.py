"""Files handed to visitors (a picture, a CSV): written in one folder that keeps only the recent.

gradio copies a file an event returns into its own cache (which app.py empties of day-old
files), so ours is needed only until the event has answered. Each new one first removes what is
older than KEEP_SECONDS, and all but the newest KEEP_MOST: the folder's size is bounded however
often a client asks.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

FOLDER = Path(tempfile.gettempdir()) / "neural-playground-files"
KEEP_SECONDS = 600
KEEP_MOST = 200


def prune(now: float | None = None) -> None:
    """Remove what is older than KEEP_SECONDS, and all but the newest KEEP_MOST entries."""
    now = time.time() if now is None else now
    entries = []
    for entry in FOLDER.iterdir() if FOLDER.is_dir() else []:
        try:
            entries.append((entry.stat().st_mtime, entry))
        except OSError:  # removed by another request meanwhile
            continue
    entries.sort(reverse=True)
    for i, (mtime, entry) in enumerate(entries):
        if i >= KEEP_MOST or now - mtime > KEEP_SECONDS:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def folder(prefix: str) -> Path:
    """A new, empty folder for one answer's files, after pruning the old ones."""
    FOLDER.mkdir(exist_ok=True)
    prune()
    return Path(tempfile.mkdtemp(prefix=prefix, dir=FOLDER))
