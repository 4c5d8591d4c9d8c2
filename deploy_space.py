"""Deploy this folder to a Hugging Face Space, as a folder upload.

    pip install huggingface_hub && hf auth login      # once, with a token that may write
    python deploy_space.py YOUR-NAME/neural-playground  # creates the Space if needed
    python deploy_space.py YOUR-NAME/neural-playground --dry-run   # list what would go

Why an upload and not `git push`: the Hub refuses files over 10 MiB pushed with plain git unless
Git LFS or Xet stores them, and the weights here are larger (45 MB, 23 MB, 20 MB) and kept as
ordinary files in this repository. `HfApi.upload_folder` asks the Hub about each file and sends
the large ones through LFS/Xet by itself.

What goes: the app (app.py, demos/, models/ with its shipped weights and training scripts),
requirements.txt and README.md (whose front matter configures the Space). What stays: tests,
benchmarks, CI, git and caches. On the Space, SPACE_ID is set, so the Hub checkpoints of
models/registry.py are offered beside the bundled models (NP_HUB_MODELS=0 in the Space's
settings turns them off); README's preload_from_hub downloads them when the Space is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Hidden files and folders (.git, .ci, caches), tests and benchmarks, logs. (Arrays that ship
# are weights: models/weights/gan-digits/training_digits.npz, which the GANs tab searches.)
IGNORE = [".*", ".*/*", "tests/*", "**/__pycache__/*", "*.pyc", "*.log",
          "requirements-test.txt", "deploy_space.py"]


def files_to_upload(root: Path = ROOT) -> list[str]:
    """The files upload_folder would send, by the same filter it applies (no network)."""
    from huggingface_hub.utils import filter_repo_objects

    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return list(filter_repo_objects(paths, ignore_patterns=IGNORE))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("space", help="the Space's id, owner/name")
    p.add_argument("--dry-run", action="store_true", help="list the files, send nothing")
    p.add_argument("--private", action="store_true")
    args = p.parse_args()
    files = files_to_upload()
    size = sum((ROOT / f).stat().st_size for f in files) / 2**20
    print(f"{len(files)} files, {size:.1f} MB:")
    for f in files:
        print("  " + f)
    if args.dry_run:
        return
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(args.space, repo_type="space", space_sdk="gradio", private=args.private,
                    exist_ok=True)
    api.upload_folder(repo_id=args.space, repo_type="space", folder_path=ROOT,
                      ignore_patterns=IGNORE, commit_message="Deploy Neural Playground")
    print(f"https://huggingface.co/spaces/{args.space}")


if __name__ == "__main__":
    main()
