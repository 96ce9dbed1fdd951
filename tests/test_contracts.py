"""CONTRACTS.md exists, every section a module cites is in it, and it names every manifest field."""

from __future__ import annotations

import dataclasses
import re

from curate.manifest import Manifest, ShardEntry, SourceEntry, TokenizerInfo
from tests.conftest import REPO

CONTRACTS = (REPO / "CONTRACTS.md").read_text(encoding="utf-8")
HEADINGS = {line.lstrip("#").strip() for line in CONTRACTS.splitlines() if line.startswith("#")}


def test_every_cited_section_exists():
    cited = {}
    for path in [*REPO.glob("curate/**/*.py"), *REPO.glob("mixers/*.py"), *REPO.glob("train/*.py"),
                 *REPO.glob("tests/*.py")]:
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))
        for m in re.finditer(r'CONTRACTS\.md,? "([^"]+)"(?:, "([^"]+)")?', text):
            for name in filter(None, m.groups()):
                cited.setdefault(name, []).append(path.name)
    assert len(cited) >= 3 and "Token columns" in cited
    assert {name: files for name, files in cited.items() if name not in HEADINGS} == {}


def test_the_manifest_section_names_every_field():
    section = CONTRACTS.split("## manifest.json")[1].split("\n## ")[0]
    for cls in (Manifest, ShardEntry, SourceEntry, TokenizerInfo):
        missing = [f.name for f in dataclasses.fields(cls) if f.name != "root" and f'"{f.name}"' not in section]
        assert missing == [], cls.__name__
