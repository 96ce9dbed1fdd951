"""The S3 filesystem of a run, configured only from the standard AWS environment.

- Endpoint: ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL`` (e.g. ``http://127.0.0.1:9000`` for
  MinIO or a local test server); unset means AWS itself.
- Region: ``AWS_REGION``, else ``AWS_DEFAULT_REGION``; unset means the SDK's default.
- Credentials: the AWS SDK's default chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
  ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and ``~/.aws``, instance roles). curate never reads,
  stores or logs them: nothing about them can reach a recipe, manifest, stats file or log.

pyarrow reads the same variables when it opens an ``s3://`` URI itself (``pq.read_table(uri)``),
so both routes reach the same endpoint with the same identity. Failures become one-line
:class:`StorageError` messages naming the URI and what to check.
"""

from __future__ import annotations

import functools
import os
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from curate.errors import StorageError

#: Attempts per request before an unreachable endpoint is reported (the SDK backs off between them).
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_S = 5.0


def endpoint() -> str | None:
    """The endpoint URL from the environment, or None for AWS itself."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


@functools.lru_cache(maxsize=8)
def _filesystem(endpoint_url: str | None, region: str | None) -> pafs.S3FileSystem:
    kwargs: dict = {"connect_timeout": CONNECT_TIMEOUT_S,
                    "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=MAX_ATTEMPTS)}
    if endpoint_url:
        parts = urlsplit(endpoint_url if "://" in endpoint_url else f"https://{endpoint_url}")
        kwargs["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        kwargs["scheme"] = parts.scheme
    if region:
        kwargs["region"] = region
    return pafs.S3FileSystem(**kwargs)


def s3_filesystem() -> pafs.S3FileSystem:
    """The process's S3 filesystem for the current environment (cached per endpoint and region)."""
    return _filesystem(endpoint(), os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


def is_storage_failure(exc: BaseException) -> bool:
    """Whether an OSError came from an object-store request (pyarrow's "AWS Error ..." messages)."""
    return "AWS Error" in str(exc) or "curlCode" in str(exc)


def storage_error(uri: str, exc: BaseException) -> StorageError:
    """A one-line error for a failed operation on ``uri``: which URI, what went wrong, what to check."""
    text = " ".join(str(exc).split())
    where = endpoint() or "AWS S3"
    if "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text or "bucket does not exist" in text.lower():
        bucket = urlsplit(uri).netloc
        return StorageError(f"{uri}: bucket '{bucket}' does not exist at {where}; create it or fix the URI")
    if any(k in text for k in ("NETWORK_CONNECTION", "curlCode", "Couldn't connect", "Could not resolve",
                               "Connection refused", "Timeout", "timed out")):
        return StorageError(f"{uri}: cannot reach the S3 endpoint {where}; check AWS_ENDPOINT_URL "
                            f"and the network ({text[:160]})")
    if any(k in text for k in ("ACCESS_DENIED", "AccessDenied", "INVALID_ACCESS_KEY", "SIGNATURE",
                               "Forbidden", "403")):
        return StorageError(f"{uri}: access denied at {where}; check the AWS_* credentials and the "
                            f"bucket policy ({text[:160]})")
    return StorageError(f"{uri}: {text[:300]}")


def polars_storage_options(root: object) -> dict[str, str] | None:
    """polars' ``storage_options`` for reading under ``root``: None for local paths; for S3 the
    endpoint (and plain-HTTP permission for an ``http://`` endpoint) from the same environment.
    Credentials are left to polars' own AWS_* lookup, so they never pass through curate."""
    if not str(root).startswith("s3://"):
        return None
    url = endpoint()
    if not url:
        return {}
    options = {"aws_endpoint_url": url}
    if url.startswith("http://"):
        options["aws_allow_http"] = "true"
    return options
