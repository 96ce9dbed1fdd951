"""Storage: one way to name, list, read and commit files on local disk and object storage.

``location("s3://bucket/out")`` gives a :class:`RemotePath`, a plain path gives ``pathlib.Path``;
both offer the same methods (``/``, ``exists``, ``open``, ``read_bytes``, ``glob``, ...), and
``os.fspath`` of either is what pyarrow and polars open. The S3 endpoint and credentials come from
the standard AWS environment only (``s3.py``); commits are write-then-marker (``commit.py``);
locks on object storage are advisory lock objects (``lock.py``).
"""

from curate.storage.commit import copy_file, move_file, publish, staging_path, write_atomic
from curate.storage.location import (AnyPath, glob_files, is_remote, is_uri, location, open_input_file,
                                     open_output_file, rmtree)
from curate.storage.remote import RemotePath
from curate.storage.s3 import polars_storage_options

__all__ = ["AnyPath", "RemotePath", "copy_file", "glob_files", "is_remote", "is_uri", "location",
           "move_file", "open_input_file", "open_output_file", "polars_storage_options", "publish",
           "rmtree", "staging_path", "write_atomic"]
