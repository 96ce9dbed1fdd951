"""Committing files: complete under their final name, or absent.

Local disk: write ``NAME.tmp`` and ``os.replace`` it to ``NAME`` (an atomic rename). Object stores
have no rename (a "rename" is a copy plus a delete, neither atomic nor cheap), but an object becomes
visible only when its upload completes, and a killed writer's unfinished upload never appears. So a
remote file is written straight to its final name, and what makes a unit of work count is the
*marker* written after all its files (``.done.json``, ``resolve.done.json``, and last of all
``manifest.json``): a restarted build deletes whatever an unmarked unit left behind and redoes it.
That is "write, then marker", and it is the same rule the runner already follows on disk.
"""

from __future__ import annotations

import os
import shutil

from curate.storage.location import AnyPath, is_remote


def staging_path(final: AnyPath) -> AnyPath:
    """Where to write ``final`` before :func:`publish`: ``final.tmp`` locally, ``final`` remotely."""
    return final if is_remote(final) else final.with_name(final.name + ".tmp")


def publish(staged: AnyPath, final: AnyPath) -> None:
    """Give the staged file its final name (a no-op remotely: the upload already did)."""
    if staged != final:
        os.replace(staged, final)


def write_atomic(path: AnyPath, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is complete or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = staging_path(path)
    staged.write_bytes(data)
    publish(staged, path)


def copy_file(src: AnyPath, dst: AnyPath) -> None:
    """Copy one file between any two locations (local or remote), committed like write_atomic."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    staged = staging_path(dst)
    if not is_remote(src) and not is_remote(staged):
        shutil.copyfile(src, staged)
    else:
        with src.open("rb") as fin, staged.open("wb") as fout:
            while chunk := fin.read(1 << 22):
                fout.write(chunk)
    publish(staged, dst)


def move_file(src: AnyPath, dst: AnyPath) -> None:
    """Move one file: a rename on one local disk, else a committed copy then a delete."""
    if not is_remote(src) and not is_remote(dst):
        os.replace(src, dst)
        return
    copy_file(src, dst)
    src.unlink()
