"""Atomic writers of kexue.io."""
import numpy as np

from kexue.io import read_json, save_npz, atomic_write_json


def test_save_npz_writes_exactly_the_path_and_round_trips(tmp_path):
    path = tmp_path / "arrays"  # no suffix: numpy alone would write arrays.npz
    save_npz(path, {"a": np.arange(3), "b": np.eye(2)})
    assert path.exists() and not (tmp_path / "arrays.npz").exists()
    with np.load(path) as z:
        assert z["a"].tolist() == [0, 1, 2] and z["b"].shape == (2, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["arrays"]  # no temp file left behind
    atomic_write_json(tmp_path / "m.json", {"x": 1})
    assert read_json(tmp_path / "m.json") == {"x": 1}
