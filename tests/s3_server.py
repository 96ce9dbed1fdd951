"""A real S3-compatible server on 127.0.0.1 for the object-storage tests: moto's ThreadedMotoServer
(moto >= 5.2.5; 5.2.1 answers CompleteMultipartUpload with a root tag pyarrow rejects), started
once per session, with the standard AWS_* environment pointing at it so that curate, pyarrow,
polars and `python -m curate` subprocesses all reach it the way they would reach real S3."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
from pathlib import Path

import pytest

#: Distinctive credentials, so a test can assert they appear in no output file and no message.
ACCESS_KEY, SECRET_KEY = "AKIACURATETEST0KEY42", "curate-test-secret-3c9f1e"
ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE":
       "/nonexistent"}


@pytest.fixture(scope="session")
def s3_endpoint():
    """The server for the test session; yields its endpoint URL."""
    pytest.importorskip("moto.server")
    with local_s3_server() as url:
        yield url


@contextlib.contextmanager
def local_s3_server():
    """Start a moto S3 server on 127.0.0.1 and point the AWS_* environment at it (restored on
    exit); yields the endpoint URL. Also usable outside pytest (benchmarks)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in [*ENV, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION"]}
    os.environ.update(ENV, AWS_ENDPOINT_URL=url)
    os.environ.pop("AWS_ENDPOINT_URL_S3", None)
    os.environ.pop("AWS_REGION", None)
    try:
        yield url
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


@pytest.fixture
def bucket(s3_endpoint) -> str:
    """A fresh, empty bucket; yields its name."""
    import boto3

    name = f"curate-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


def upload_tree(local: Path, uri: str) -> None:
    """Copy every file under ``local`` to the prefix ``uri`` (s3://bucket/prefix)."""
    from curate.storage import copy_file, location

    root = location(uri)
    for path in sorted(local.rglob("*")):
        if path.is_file():
            copy_file(path, root / path.relative_to(local).as_posix())


def all_bytes(root) -> bytes:
    """Every file under ``root`` (local Path or RemotePath), concatenated in name order."""
    from curate.storage import RemotePath

    files = sorted(root.glob("**/*")) if isinstance(root, RemotePath) else sorted(root.rglob("*"))
    return b"".join(p.read_bytes() for p in files if p.is_file())


def tree_digests(root, subdirs=("shards", "rejected", "quarantine")) -> dict[str, str]:
    """sha256 of every file under ``root``'s ``subdirs`` (local Path or RemotePath), by relative name."""
    out = {}
    for sub in subdirs:
        for path in sorted((root / sub).glob("*")):
            out[f"{sub}/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
