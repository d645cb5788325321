"""The restricted unpickler: plain data loads (Python 2 latin-1 strings too); classes, globals,
reduce callables, persistent ids, sets and bytes are refused and never executed."""
from __future__ import annotations

import copyreg
import os
import pickle
import pickletools

import pytest

from core.ingest.safe_pickle import MAX_PICKLE_BYTES, PickleRefused, load_plain, loads_plain


class WritesAFile:
    """What a hostile annotation pickle does: unpickling calls open(target, 'w').write(...)."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.target}",))


class Thing:
    pass


def test_plain_annotation_dicts_load_with_every_protocol():
    data = {"openness": {"Xy0-AbCdEfG.003.mp4": 0.5, "-1abc.001.mp4": 1.0}, "interview": {"a.mp4": 0}}
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert loads_plain(pickle.dumps(data, protocol=protocol)) == data
    nested = [("a", 1, 2.5, True, None), {"k": [1, 2]}]
    assert loads_plain(pickle.dumps(nested)) == nested


def test_python2_str_reads_as_latin1():
    # what Python 2's pickle.dumps({'caf\xe9.mp4': 0.5}, 2) writes: SHORT_BINSTRING, not unicode
    py2 = b"\x80\x02}q\x00U\x08caf\xe9.mp4q\x01G?\xe0\x00\x00\x00\x00\x00\x00s."
    assert loads_plain(py2) == {"caf\xe9.mp4": 0.5}


def test_malicious_reduce_is_refused_and_never_runs(tmp_path):
    target = tmp_path / "pwned.txt"
    evil = pickle.dumps({"openness": {"a.mp4": WritesAFile(str(target))}})
    assert b"system" in evil
    path = tmp_path / "annotation_training.pkl"
    path.write_bytes(evil)
    with pytest.raises(PickleRefused, match=r"names posix\.system|names nt\.system") as info:
        load_plain(path)
    assert "not executed" in str(info.value)
    assert not target.exists()
    pickle.loads(evil)  # the same bytes with the ordinary unpickler do run it: the test is real
    assert target.exists()


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_any_class_instance_is_refused(protocol):
    with pytest.raises(PickleRefused, match="names (copy_reg._reconstructor|.*Thing)"):
        loads_plain(pickle.dumps({"x": Thing()}, protocol=protocol))


def test_extension_registry_and_persistent_ids_are_refused():
    copyreg.add_extension("tests.ingest.test_safe_pickle", "Thing", 240)
    try:
        data = pickle.dumps(Thing, protocol=2)
        assert any(op.name.startswith("EXT") for op, _, _ in pickletools.genops(data))
        with pytest.raises(PickleRefused, match="Thing"):
            loads_plain(data)
    finally:
        copyreg.remove_extension("tests.ingest.test_safe_pickle", "Thing", 240)
    with pytest.raises(PickleRefused, match="persistent"):
        loads_plain(b"P1\n.")


@pytest.mark.parametrize("value, kind", [({1, 2}, "set"), (frozenset({1}), "frozenset"), (b"xy", "bytes"),
                                         (bytearray(b"z"), "bytearray")])
def test_non_plain_builtins_are_refused(value, kind):
    with pytest.raises(PickleRefused, match=kind):
        loads_plain(pickle.dumps({"k": [value]}, protocol=4))


@pytest.mark.parametrize("data", [b"", b"\x80\x02}q\x00", b"not a pickle", b"(" * 100_000 + b"."])
def test_damaged_or_hostile_bytes_are_a_clear_error(data):
    with pytest.raises(PickleRefused):
        loads_plain(data)


def test_oversized_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.pkl"
    with big.open("wb") as fh:
        fh.truncate(MAX_PICKLE_BYTES + 1)
    with pytest.raises(PickleRefused, match="MiB"):
        load_plain(big)
