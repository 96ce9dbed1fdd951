"""Ahead-of-time kernels (curate/kernels): same results as numba's JIT, no numba in the process,
one compile per key (announced, locked), recovery from a damaged file, the JIT fallback."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate import kernels
from curate.kernels import compile as kernels_compile

REPO = Path(__file__).resolve().parents[1]
FAMILIES = sorted(p.stem for p in (REPO / "curate" / "kernels").glob("*.py")
                  if p.stem not in ("__init__", "compile")
                  and importlib.import_module(f"curate.kernels.{p.stem}").__dict__.get("SIGNATURES"))


def run(code: str, env: dict) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, cwd=REPO)


def test_every_family_exports_functions_that_exist():
    assert {"hashing", "length", "minhash", "cluster", "bloom", "repeats", "ngrams", "pii", *TEXT_FAMILIES} <= set(FAMILIES)
    for family in FAMILIES:
        module = importlib.import_module(f"curate.kernels.{family}")
        for name, signature in module.SIGNATURES.items():
            assert hasattr(getattr(module, name), "py_func"), (family, name)
            assert "(" in signature and signature.endswith(")"), (family, name)


texts = st.lists(st.text(alphabet=st.sampled_from(list(" \t\n.,-ab1é中😀\u3000")), max_size=60), max_size=12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(texts)
def test_aot_equals_jit(values):
    """The compiled library and numba's dispatchers give the same arrays on the same inputs."""
    arr = pa.array(values, pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], np.int64)[: len(arr) + 1]
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    n = len(arr)
    aot = {f: kernels.load(f) for f in ("hashing", "length", "minhash")}
    jit = {f: importlib.import_module(f"curate.kernels.{f}") for f in aot}
    results = []
    for lib in (aot, jit):
        h = np.empty(n, np.uint64)
        lib["hashing"].hash_all(data, offsets, np.uint64(7), h)
        chars, words = np.empty(n, np.int64), np.empty(n, np.int64)
        lib["length"].char_word_counts(data, offsets, chars, words)
        mult = np.arange(1, 19, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) | np.uint64(1)
        add = np.arange(18, dtype=np.uint64) * np.uint64(12345)
        sigs, counts = np.empty((n, 18), np.uint32), np.empty(n, np.int64)
        lib["minhash"].minhash_rows(data, offsets, False, True, 3, mult, add, sigs, counts)
        keys = np.empty((n, 3), np.uint64)
        lib["minhash"].band_keys(sigs, 3, 6, np.uint64(1), keys)
        results.append((h, chars, words, sigs, counts, keys))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    assert type(aot["length"]).__name__ == "module" and "_curate_length" == aot["length"].__name__


def _dedup_kernel_outputs(lib: dict, data: np.ndarray, offsets: np.ndarray, values: list[str]) -> list:
    """Every output of the bloom, repeats, ngrams and pii kernels on one batch (``lib``: family ->
    compiled library or numba module)."""
    from curate.decon.ngrams import tables
    from curate.dedup.bloom import bloom_size, second_hashes
    from curate.pii.checked import NETWORK_TABLE
    from curate.text.hashing import hash_strings

    n = len(offsets) - 1
    words = [w for v in values for w in v.split()] or ["x"]
    keys = hash_strings(pa.array(words + words[::2], pa.large_string())) % np.uint64(7)  # repeats and 0s
    steps = second_hashes(keys)
    outs = []
    size = bloom_size(len(keys), 0.01, 1 << 20, counting=True)
    bits, seen = np.zeros(size.num_slots // 64, np.uint64), np.zeros(len(keys), bool)
    lib["bloom"].seen_bits(keys, steps, bits, size.num_slots, size.num_hashes, seen)
    counters, first = np.zeros(size.num_slots, np.uint8), np.zeros(len(keys), bool)
    lib["bloom"].over_count_in_order(keys, steps, counters, size.num_slots, size.num_hashes, 2, first)
    totals, over = np.zeros(size.num_slots, np.uint8), np.zeros(len(keys), bool)
    lib["bloom"].add_counts(keys, steps, totals, size.num_slots, size.num_hashes)
    lib["bloom"].over_count(keys, steps, totals, size.num_slots, size.num_hashes, 1, over)
    removed = np.zeros(len(keys), bool)
    runs = lib["repeats"].run_removals(np.sort(keys), 1, False, removed)
    outs += [bits, seen, counters, first, totals, over, removed, np.array([runs])]
    flags, lower = tables()
    ng = lib["ngrams"]
    counts = ng.count_words(data, offsets, flags, lower)
    grams = np.maximum(counts - 1, 0)
    gram_off = np.r_[0, np.cumsum(grams)].astype(np.int64)
    total = gram_off[-1]
    h, it, pos = np.empty(total, np.uint64), np.empty(total, np.int32), np.empty(total, np.int32)
    ng.fill_grams(data, offsets, 2, flags, lower, gram_off, h, it, pos)
    order = np.argsort(h, kind="stable")
    hits = ng.find_hits(data, offsets, 2, flags, lower, h[order], it[order], pos[order])
    hits = hits[np.lexsort((hits[:, 2], hits[:, 1], hits[:, 0]))]
    run_start, covered = ng.coverage(hits, 2)
    spans = np.ascontiguousarray(hits[::2][:, [0, 3, 4]])
    spans = spans[np.lexsort((spans[:, 1], spans[:, 0]))] if len(spans) else np.zeros((0, 3), np.int64)
    span_off = np.searchsorted(spans[:, 0], np.arange(n + 1)).astype(np.int64)
    outs += [counts, h, it, pos, hits, run_start, covered]
    for whole_lines in (False, True):
        cut, cut_off = np.empty(max(len(data), 1), np.uint8), np.empty(n + 1, np.int64)
        gone = np.zeros(n, np.int64)
        ng.remove_spans(data, offsets, spans, span_off, whole_lines, flags, cut, cut_off, gone)
        outs += [cut[:cut_off[-1]], cut_off, gone]
    checked = values + ["card: 4111 1111 1111 1111.", "iban: GB82 WEST 1234 5698 7654 32",
                        "4111 1111 1111 1112"]  # Luhn-valid Visa, mod-97-valid IBAN, Luhn-invalid
    candidate = re.compile(r"[0-9A-Za-z][0-9A-Za-z ]*[0-9A-Za-z]")
    wrapped = pa.array([candidate.sub(lambda m: "\ue000" + m.group() + "\ue001", v) for v in checked],
                       pa.large_string())
    wbufs = wrapped.buffers()
    wdata = np.frombuffer(wbufs[2], np.uint8)
    woff = np.frombuffer(wbufs[1], np.int64)[: len(checked) + 1]
    place = np.frombuffer(b"<X>", np.uint8)
    for check in (0, 1):
        out, out_off = np.empty(3 * len(wdata) + 1, np.uint8), np.empty(len(checked) + 1, np.int64)
        found = np.zeros(len(checked), np.int64)
        lib["pii"].resolve(wdata, woff, check, place, out, out_off, found, NETWORK_TABLE)
        outs += [out[:out_off[-1]], out_off, found]
    return outs


@settings(max_examples=40, deadline=None, derandomize=True)
@given(texts)
def test_dedup_families_aot_equal_jit(values):
    """bloom, repeats, ngrams and pii: the compiled libraries and numba's dispatchers give the
    same arrays on the same inputs."""
    arr = pa.array(values, pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], np.int64)[: len(arr) + 1]
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    families = ("bloom", "repeats", "ngrams", "pii")
    aot = _dedup_kernel_outputs({f: kernels.load(f) for f in families}, data, offsets, values)
    jit = _dedup_kernel_outputs({f: importlib.import_module(f"curate.kernels.{f}") for f in families}, data,
                                offsets, values)
    assert len(aot) == len(jit) == 27
    assert aot[-4][-3:].tolist() == [1, 0, 0] and aot[-1][-3:].tolist() == [0, 1, 0]  # Luhn; mod-97
    for a, b in zip(aot, jit):
        np.testing.assert_array_equal(a, b)
    assert all(type(kernels.load(f)).__name__ == "module" for f in families)
TEXT_FAMILIES = ("words", "gopher_quality", "gopher_repetition", "fineweb_quality", "c4", "code_quality", "mtld")
PIECES = ["don't", "Mr.", "the", "and", "of", "http://x.com/a-b", "e.g.,", "...", "\u2026", "\n", "\n\n",
          " ", "  ", "-", "\u2022", "#", "{", "[1]", "lorem ipsum", "Hello", "end.", "x......y", "\u4e2d\u6587",
          "\U0001f600", "10km", "$5", ":)", "well-known", "javascript", "\t", "\r\n", "\u00e9t\u00e9", "0x1F, ",
          "ab+/"]
documents = st.lists(st.lists(st.sampled_from(PIECES), max_size=80).map("".join), min_size=1, max_size=8)


def quality_outputs(values: list[str]) -> list:
    """Every text family's exported kernel through its Python caller, on ``values``."""
    from curate.steps.c4 import C4
    from curate.steps.code_quality import CodeQuality
    from curate.steps.fineweb_quality import FineWebQuality
    from curate.steps.gopher_quality import GopherQuality
    from curate.steps.gopher_repetition import GopherRepetition
    from curate.text.lang_words import _english
    from curate.text.mtld import mtld

    text = pa.array(values, pa.large_string())
    batch = pa.record_batch({"text": text, "meta": pa.array(['{"path": "a.py"}'] * len(values))})
    c4_text, c4_reasons = C4(min_num_sentences=1, min_words_per_line=1)._run(text)
    steps = [GopherQuality(min_doc_words=3, min_stop_words=1, max_symbol_word_ratio=0.5), GopherRepetition(),
             FineWebQuality(), CodeQuality(max_line_length=40, max_encoded_run=8)]
    return ([s.reject(batch).to_pylist() for s in steps] + [c4_text.to_pylist(), c4_reasons.to_pylist()]
            + [a.tolist() for a in _english(text)] + [np.nan_to_num(mtld(text), nan=-1.0).tolist()])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(documents)
def test_text_families_aot_equal_jit(values):
    """The tokenizer (``words.english_spans``) and every quality-filter family: the compiled libraries
    and numba's dispatchers give the same spans, reasons, rewritten texts and scores."""
    aot = {f: kernels.load(f) for f in TEXT_FAMILIES}
    jit = {f: importlib.import_module(f"curate.kernels.{f}") for f in TEXT_FAMILIES}
    results = []
    with pytest.MonkeyPatch.context() as mp:
        for lib in (aot, jit):
            mp.setattr(kernels, "_loaded", dict(lib))
            results.append(quality_outputs(values))
    assert results[0] == results[1]
    assert all(type(m).__name__ == "module" and m.__name__ == f"_curate_{f}" for f, m in aot.items())


def test_quality_steps_never_import_numba():
    done = run("import sys, pyarrow as pa\n"
               "from curate.steps.gopher_quality import GopherQuality\n"
               "from curate.steps.gopher_repetition import GopherRepetition\n"
               "from curate.steps.c4 import C4\n"
               "from curate.steps.fineweb_quality import FineWebQuality\n"
               "b = pa.record_batch({'text': pa.array(['The cat sat. It was fine!'], pa.large_string())})\n"
               "steps = (GopherQuality(), GopherRepetition(), C4(), FineWebQuality())\n"
               "print([s.reject(b)[0].as_py() for s in steps], 'numba' in sys.modules)", {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("]")[-1].split() == ["False"]
    assert "gopher_short_doc" in done.stdout and "too_few_sentences" in done.stdout


def test_process_using_kernels_never_imports_numba():
    done = run("import sys, pyarrow as pa\n"
               "from curate.text.hashing import hash_strings\n"
               "from curate.steps.length import char_word_counts\n"
               "from curate.dedup.minhash import signatures\n"
               "print(hash_strings(pa.array(['a']))[0], char_word_counts(pa.array(['a b']))[1][0],\n"
               "      signatures(pa.array(['a b c']), num_perm=4)[1][0], 'numba' in sys.modules)", {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1:] == ["2", "1", "False"]


def test_dedup_decon_and_pii_never_import_numba():
    done = run("import sys, numpy as np, pyarrow as pa\n"
               "from curate.dedup import bloom, repeats\n"
               "from curate.decon.ngrams import NgramIndex, cut_spans, find_matches\n"
               "from curate.pii.checked import LUHN, replace_checked\n"
               "from curate.pii.patterns import PATTERNS\n"
               "keys = np.array([5, 5, 0, 9, 5], np.uint64)\n"
               "out = np.zeros(5, bool)\n"
               "size = bloom.bloom_size(5, 0.01, 1 << 20, counting=False)\n"
               "bloom.seen_bits(keys, bloom.second_hashes(keys), np.zeros(size.num_slots // 64, np.uint64),\n"
               "                size.num_slots, size.num_hashes, out)\n"
               "runs = repeats.run_removals(np.sort(keys), 1, True, np.zeros(5, bool))\n"
               "text = pa.array(['one two three', 'x one two y'], pa.large_string())\n"
               "m = find_matches(text, NgramIndex.build(text[:1], 2, 10), 0.0)\n"
               "cut, gone = cut_spans(text, m.spans, whole_lines=False)\n"
               "red, n = replace_checked(pa.array(['pay 4111 1111 1111 1111'], pa.large_string()),\n"
               "                         PATTERNS['credit_card'], LUHN, '<CC>')\n"
               "print(out.tolist(), runs, cut.to_pylist(), red.to_pylist(), 'numba' in sys.modules)", {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ("[False, True, False, False, True] 1 ['', 'x  y'] "
                                            "['pay <CC>'] False")


def test_first_use_compiles_once_with_a_notice_then_loads_silently(tmp_path):
    code = ("import pyarrow as pa\nfrom curate.steps.length import char_word_counts\n"
            "print(char_word_counts(pa.array(['a b', ' x ']))[0].tolist())")
    env = {"CURATE_CACHE_DIR": str(tmp_path)}
    first = run(code, env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "[3, 1]"
    assert first.stderr.count("compiling kernels 'length' once") == 1
    built = list((tmp_path / "kernels").glob("*/_curate_length*.so"))
    assert len(built) == 1
    second = run(code, env)
    assert second.stdout.strip() == "[3, 1]" and second.stderr == ""


def test_concurrent_first_runs_compile_once(tmp_path):
    code = ("import pyarrow as pa\nfrom curate.steps.length import char_word_counts\n"
            "print(char_word_counts(pa.array(['a b c']))[1].tolist())")
    full = {**os.environ, "PYTHONPATH": str(REPO), "CURATE_CACHE_DIR": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=full, cwd=REPO) for _ in range(3)]
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert [o[0].strip() for o in outs] == ["[3]"] * 3
    assert sum(o[1].count("compiling kernels 'length'") for o in outs) == 1


def test_damaged_library_is_compiled_again(tmp_path):
    code = ("import pyarrow as pa\nfrom curate.steps.length import char_word_counts\n"
            "print(char_word_counts(pa.array(['a b']))[1].tolist())")
    env = {"CURATE_CACHE_DIR": str(tmp_path)}
    assert run(code, env).returncode == 0
    (built,) = (tmp_path / "kernels").glob("*/_curate_length*.so")
    built.write_bytes(built.read_bytes()[:1000])  # truncated
    again = run(code, env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "[2]"
    assert "compiling kernels 'length' once" in again.stderr and "JIT" not in again.stderr
    assert built.stat().st_size > 100_000


def test_unwritable_cache_falls_back_to_jit_and_says_why(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = run("import sys, pyarrow as pa\nfrom curate.steps.length import char_word_counts\n"
               "print(char_word_counts(pa.array(['a b']))[1].tolist(), 'numba' in sys.modules)",
               {"CURATE_CACHE_DIR": str(blocker / "cache")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[2]", "True"]
    assert "kernels 'length' run through numba's JIT" in done.stderr


def test_jit_mode_and_a_bad_mode(monkeypatch):
    monkeypatch.setenv("CURATE_KERNELS", "jit")
    monkeypatch.setattr(kernels, "_loaded", {})
    assert kernels.load("length") is importlib.import_module("curate.kernels.length")
    monkeypatch.setenv("CURATE_KERNELS", "fast")
    monkeypatch.setattr(kernels, "_loaded", {})
    with pytest.raises(ValueError, match="CURATE_KERNELS='fast'; allowed: aot, jit"):
        kernels.load("length")


def test_key_covers_kernel_files_and_the_curate_modules_they_import():
    sources = {p.relative_to(REPO).as_posix() for p in kernels.key_sources()}
    assert {"curate/kernels/length.py", "curate/kernels/minhash.py", "curate/kernels/borrow.py",
            "curate/text/hashing.py", "curate/dedup/bloom.py", "curate/text/charclass.py",
            "curate/kernels/utf8.py"} <= sources  # GOLDEN, SATURATED, the flag bits: compiled in
    found = set(kernels._curate_imports("from curate.text import charclass as cc, lines\nimport curate.kernels.utf8\n"))
    assert {"curate.text", "curate.text.charclass", "curate.text.lines", "curate.kernels.utf8"} <= found


def test_key_changes_with_a_kernel_file(tmp_path, monkeypatch):
    copy = tmp_path / "curate"
    (copy / "kernels").mkdir(parents=True)
    for p in (REPO / "curate" / "kernels").glob("*.py"):
        (copy / "kernels" / p.name).write_bytes(p.read_bytes())
    monkeypatch.setattr(kernels, "HERE", copy / "kernels")
    monkeypatch.setattr(kernels, "CURATE_ROOT", copy)
    monkeypatch.setattr(kernels, "_key", None)
    before = kernels.kernels_key()
    monkeypatch.setattr(kernels, "_key", None)
    assert kernels.kernels_key() == before
    path = copy / "kernels" / "length.py"
    path.write_text(path.read_text() + "\n# changed\n")
    monkeypatch.setattr(kernels, "_key", None)
    assert kernels.kernels_key() != before
    monkeypatch.setattr(kernels, "_key", None)


def test_a_family_without_exports_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="exports nothing"):
        kernels_compile.compile_family("utf8", tmp_path / "x.so")
