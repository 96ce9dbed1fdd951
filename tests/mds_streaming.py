"""Read an MDS export with the real ``streaming.StreamingDataset`` and rewrite it with ``MDSWriter``.

Runs in a subprocess (``python tests/mds_streaming.py EXPORT_DIR THEIRS_DIR``) so that the
torchvision stub it may need (``tests/stubs``) is never visible to the test process: with it on
``sys.path``, ``transformers`` would report torchvision as available. Prints one JSON list of the
samples (``id``, ``tokens``, ``num_prefix_tokens``) in dataset order.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STUBS = REPO / "tests" / "stubs"
INSTALL = "pip install --no-deps mosaicml-streaming==0.13.0 (README, Install)"


def streaming_installed() -> bool:
    return importlib.util.find_spec("streaming") is not None


def read_and_rewrite(export_dir: Path, theirs: Path) -> list[dict]:
    """The samples as StreamingDataset reads them; MDSWriter's files for the same samples in ``theirs``."""
    paths = [str(REPO)] + ([str(STUBS)] if importlib.util.find_spec("torchvision") is None else [])
    paths += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    proc = subprocess.run([sys.executable, __file__, str(export_dir), str(theirs)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.splitlines()[-1])


def _main(export_dir: str, theirs: str) -> None:
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    from streaming import MDSWriter, StreamingDataset

    index = json.loads((Path(export_dir) / "index.json").read_text())
    columns = dict(zip(index["shards"][0]["column_names"], index["shards"][0]["column_encodings"]))
    ds = StreamingDataset(local=export_dir, shuffle=False, batch_size=1)
    samples = [ds[i] for i in range(len(ds))]
    with MDSWriter(out=theirs, columns=columns) as writer:
        for s in samples:
            writer.write(s)
    print(json.dumps([{"id": s["id"], "tokens": np.asarray(s["tokens"]).tolist(),
                       "num_prefix_tokens": int(s["num_prefix_tokens"])} for s in samples]))


if __name__ == "__main__":
    _main(*sys.argv[1:])
