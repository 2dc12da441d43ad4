"""Datasets: checksums, and one clear message for missing or corrupt files."""
import gzip

import numpy as np
import pytest

from kexue.data.checks import open_npz
from kexue.data.digits import load_digits, prepare_digits
from kexue.data.fashion_mnist import FILES, prepare_fashion_mnist, source_dir
from kexue.errors import KexueError


def test_digits_roundtrip(tmp_path):
    info = prepare_digits(tmp_path / "d.npz")
    X, y = load_digits(tmp_path / "d.npz")
    assert info["n"] == 1797 and X.shape == (1797, 64) and 0 <= X.min() and X.max() <= 1
    assert sorted(set(y.tolist())) == list(range(10))


def test_fashion_mnist_missing_names_file_and_fix(tmp_path):
    with pytest.raises(KexueError, match=r"train-images-idx3-ubyte.gz is missing.*apt-get install dataset-fashion-mnist"):
        prepare_fashion_mnist(tmp_path / "f.npz", folder=tmp_path)
    assert not (tmp_path / "f.npz").exists()


def test_fashion_mnist_corrupt_fails_checksum(tmp_path):
    for name in FILES:
        (tmp_path / name).write_bytes(gzip.compress(b"\x00" * 64))
    with pytest.raises(KexueError, match="fails its SHA-256 check"):
        prepare_fashion_mnist(tmp_path / "f.npz", folder=tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
    with pytest.raises(KexueError, match="is corrupt"):
        prepare_fashion_mnist(tmp_path / "f.npz", folder=tmp_path)


@pytest.mark.skipif(not (source_dir() / "train-labels-idx1-ubyte.gz").exists(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_real_files_verify(tmp_path):
    info = prepare_fashion_mnist(tmp_path / "f.npz")
    z = np.load(tmp_path / "f.npz")
    assert info["n_train"] == 60000 and z["x_test"].shape == (10000, 28, 28)
    assert np.bincount(z["y_train"]).tolist() == [6000] * 10


def test_corrupt_npz_is_named(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(KexueError, match=r"x.npz is corrupt.*dvc repro data_digits"):
        open_npz(p, ("X",), "data_digits")
    with pytest.raises(KexueError, match="is missing"):
        open_npz(tmp_path / "absent.npz", ("X",), "data_digits")


def test_download_fallback_verifies_each_file(tmp_path, monkeypatch):
    """The canonical-download path, served from local files (no network in tests)."""
    import io
    import urllib.request

    import kexue.data.fashion_mnist as fm

    served = {}
    for name, (header, _) in FILES.items():
        served[name] = gzip.compress(b"\x00" * header)  # right format, wrong content

    def fake_urlopen(url, timeout):
        return io.BytesIO(served[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(KexueError, match=r"http://example/train-images-idx3-ubyte.gz fails its SHA-256 check"):
        fm.download(tmp_path, base_url="http://example/")
    assert list(tmp_path.iterdir()) == [], "a file that fails its check is not kept"

    def offline(url, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(KexueError, match=r"downloading http://example/.* failed .*apt-get install dataset-fashion-mnist"):
        fm.download(tmp_path, base_url="http://example/")


def test_classification_split_first_n_and_seeded(tmp_path):
    from kexue.data.classification import classification_split

    path = tmp_path / "digits.npz"
    prepare_digits(path)
    X, y = load_digits(path)
    Xtr, ytr, Xte, yte = classification_split("digits", path, 100, 50)
    assert Xtr.shape == (100, 64) and Xte.shape == (50, 64)
    assert np.array_equal(Xtr.numpy(), X[:100]) and np.array_equal(yte.numpy(), y[100:150])
    a = classification_split("digits", path, 100, subset_seed=[0, 1])
    b = classification_split("digits", path, 100, subset_seed=[0, 1])
    assert all(np.array_equal(u.numpy(), v.numpy()) for u, v in zip(a, b))
    assert len(a[3]) == len(y) - 100 and not np.array_equal(a[0].numpy(), Xtr.numpy())
    with pytest.raises(KexueError, match="choose one of"):
        classification_split("cifar", path, 10)
    with pytest.raises(KexueError, match="lower n_train"):
        classification_split("digits", path, len(y))


def test_image_sets_split_and_range(tmp_path):
    from kexue.data.digits import prepare_digits
    from kexue.data.image_sets import image_set

    path = tmp_path / "digits.npz"
    prepare_digits(path)
    Xtr, ytr, Xte, yte = image_set("digits", path)
    assert Xtr.shape == (1500, 64) and Xte.shape == (297, 64)
    assert Xtr.min() == -1.0 and Xtr.max() == 1.0
    sub = image_set("digits", path, n_train=256)[0]
    assert (sub == Xtr[:256]).all()          # a smaller profile sees a prefix of the same split
    with pytest.raises(KexueError, match="n_train = 2000"):
        image_set("digits", path, n_train=2000)
    with pytest.raises(KexueError, match="image set 'cifar'"):
        image_set("cifar", path)
