"""demos/files.py: the folder of files handed to visitors stays small however often they ask."""

import os
import time

from demos import files


def test_old_and_surplus_files_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "FOLDER", tmp_path / "handed")
    made = [files.folder("t-") for _ in range(12)]
    for i, path in enumerate(made):  # distinct ages, newest last
        (path / "a.csv").write_text("x")
        os.utime(path, (time.time() - 100 + i, time.time() - 100 + i))
    monkeypatch.setattr(files, "KEEP_MOST", 5)
    files.prune()
    kept = sorted(files.FOLDER.iterdir())
    assert kept == sorted(made[-5:])
    old = made[-1]
    os.utime(old, (time.time() - files.KEEP_SECONDS - 1,) * 2)
    fresh = files.folder("t-")
    assert not old.exists() and fresh.is_dir() and len(list(files.FOLDER.iterdir())) == 5
