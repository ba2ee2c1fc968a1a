"""Result files: atomic, readable, one file per table, clear errors for a bad --out."""

import json
import os
import stat

import pytest

from pimsim.errors import PimsimError
from pimsim.report.output import write_atomic, write_tables
from pimsim.report.tables import Table, to_json


def tables():
    return [Table("X: energy per image", ("a",), ((1,),)), Table("X: per layer", ("a",), ((2,),)),
            Table("Y: per layer", ("a",), ((3,),))]


def test_every_table_gets_its_own_csv(tmp_path):
    paths = write_tables(tmp_path, "run", tables(), {"k": 1})
    csvs = sorted(p.name for p in paths if p.suffix == ".csv")
    assert len(csvs) == 3 == len(set(csvs))
    assert {p.read_text().splitlines()[1] for p in paths if p.suffix == ".csv"} == {"1", "2", "3"}


def test_files_are_readable_and_no_temp_left(tmp_path):
    path = write_atomic(tmp_path / "a" / "b.json", "{}")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & stat.S_IRUSR and mode & stat.S_IRGRP          # not mkstemp's 0600
    assert [p.name for p in path.parent.iterdir()] == ["b.json"]


def test_out_path_that_is_a_file(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("x")
    with pytest.raises(PimsimError, match="not a directory"):
        write_tables(blocker, "run", tables(), {})


def test_failed_write_keeps_the_old_file(tmp_path):
    path = write_atomic(tmp_path / "r.json", "old")

    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(TypeError):
        write_atomic(path, Boom())      # fails while writing: the rename never happens
    assert path.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_json_is_strict():
    assert json.loads(to_json({"x": float("nan"), "y": [float("inf"), 1.0]})) == {"x": None, "y": [None, 1.0]}
