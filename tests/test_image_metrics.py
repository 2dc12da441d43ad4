"""Image metrics, the metric classifier and image grids, checked against exact answers."""
import math

import numpy as np
import pytest
import torch
from scipy import linalg

from kexue.errors import KexueError
from kexue.feature_classifier import (avg_pool, check_state_dict, classifier_config, features, load_feature_classifier,
                                      predict, save_feature_classifier, train_feature_classifier)
from kexue.image_metrics import (FD_NAME, class_entropy, fd_floor, frechet_distance, frechet_distance_gaussians,
                                 gaussian_stats, precision_recall, sample_metrics)


def _random_cov(rng, d, cond=10.0):
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (Q * np.geomspace(1.0, 1.0 / cond, d)) @ Q.T


# ---------------------------------------------------------------------------- Frechet distance
def test_fd_name_is_not_fid():
    assert FD_NAME == "FD (classifier features)" and "FID" not in FD_NAME


def test_fd_of_identical_sets_is_zero():
    F = np.random.default_rng(0).normal(size=(500, 16)) @ np.diag(np.linspace(0.1, 3, 16))
    assert frechet_distance(F, F) == pytest.approx(0.0, abs=1e-9)


def test_fd_gaussians_matches_closed_form_and_scipy_sqrtm():
    rng = np.random.default_rng(1)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    S1, S2 = _random_cov(rng, d), 2.0 * _random_cov(rng, d, cond=100.0)
    ref = float(np.sum((mu1 - mu2) ** 2) + np.trace(S1 + S2 - 2 * linalg.sqrtm(S1 @ S2).real))
    assert frechet_distance_gaussians(mu1, S1, mu2, S2) == pytest.approx(ref, rel=1e-10)
    # commuting (diagonal) case by hand: sum (sqrt a - sqrt b)^2 + ||dmu||^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    assert frechet_distance_gaussians(np.zeros(3), np.diag(a), np.ones(3), np.diag(b)) == pytest.approx(3 + 1 + 1)
    # singular covariances (dead ReLU units): still finite, exact
    assert frechet_distance_gaussians(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([4.0, 0.0])) \
        == pytest.approx(1.0)


def test_fd_of_samples_converges_to_closed_form():
    """Gaussian features with known (mu, S): the sample FD approaches the exact value."""
    rng = np.random.default_rng(2)
    d, n = 4, 200_000
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    S1, S2 = _random_cov(rng, d), _random_cov(rng, d, cond=3.0)
    F1 = rng.multivariate_normal(mu1, S1, size=n)
    F2 = rng.multivariate_normal(mu2, S2, size=n)
    exact = frechet_distance_gaussians(mu1, S1, mu2, S2)
    assert frechet_distance(F1, F2) == pytest.approx(exact, rel=0.02)
    m, S = gaussian_stats(F1)
    assert np.allclose(m, np.mean(F1, 0)) and np.allclose(S, np.cov(F1.T))


def test_fd_floor_uses_disjoint_subsets_and_shrinks_with_n():
    F = np.random.default_rng(3).normal(size=(4000, 8))
    small, big = fd_floor(F, 100, seed=0, repeats=3), fd_floor(F, 2000, seed=0)
    assert small["n"] == 100 and len(small["values"]) == 3
    assert 0 < big["fd_floor"] < small["fd_floor"]  # bias ~ d/n: same law, different n
    assert fd_floor(F, 100, seed=5) == fd_floor(F, 100, seed=5)  # seeded
    with pytest.raises(KexueError, match="2n = 8002"):
        fd_floor(F, 4001)


def test_fd_bad_input():
    rng = np.random.default_rng(4)
    with pytest.raises(KexueError, match="F1 has 8 features per row but F2 has 9"):
        frechet_distance(rng.normal(size=(50, 8)), rng.normal(size=(50, 9)))
    with pytest.raises(KexueError, match=r"10 samples of dimension 10.*at least d \+ 1 = 11"):
        frechet_distance(rng.normal(size=(10, 10)), rng.normal(size=(50, 10)))
    bad = rng.normal(size=(50, 3))
    bad[7, 1] = np.nan
    with pytest.raises(KexueError, match="F2 contains 1 NaN/inf"):
        frechet_distance(rng.normal(size=(50, 3)), bad)
    with pytest.raises(KexueError, match="2-D array"):
        frechet_distance(np.ones(5), np.ones(5))
    with pytest.raises(KexueError, match="negative eigenvalue"):
        frechet_distance_gaussians(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(KexueError, match="not symmetric"):
        frechet_distance_gaussians(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2))


# ---------------------------------------------------------------------------- precision / recall
def test_precision_recall_identical_disjoint_and_half():
    rng = np.random.default_rng(5)
    R = rng.normal(size=(300, 5))
    assert precision_recall(R, R.copy()) == {"precision": 1.0, "recall": 1.0, "k": 3}
    far = precision_recall(R, rng.normal(size=(300, 5)) + 100.0)
    assert far["precision"] == 0.0 and far["recall"] == 0.0
    # mode dropping: fakes from one of two far-apart real clusters -> precision 1, recall 1/2
    R2 = np.concatenate([R, R + 100.0])
    half = precision_recall(R2, R.copy(), k=3)
    assert half["precision"] == 1.0 and half["recall"] == 0.5


def test_precision_recall_chunking_and_bad_input():
    rng = np.random.default_rng(6)
    R, G = rng.normal(size=(200, 4)), rng.normal(size=(150, 4)) * 1.5 + 0.3
    a, b = precision_recall(R, G, k=5, chunk=7), precision_recall(R, G, k=5, chunk=4096)
    assert a == b and 0 < a["precision"] < 1 and 0 < a["recall"] <= 1
    with pytest.raises(KexueError, match=r"k = 150: need 1 <= k < min\(n_real, n_fake\) = 150"):
        precision_recall(R, G, k=150)
    with pytest.raises(KexueError, match="F_real has 4 features per row but F_fake has 3"):
        precision_recall(R, G[:, :3])


# ---------------------------------------------------------------------------- class entropy
def test_class_entropy_exact_values():
    assert class_entropy(np.repeat(np.arange(10), 7)) == pytest.approx(math.log(10), abs=1e-15)
    assert class_entropy(np.full(50, 3)) == 0.0
    assert class_entropy(torch.tensor([0, 1] * 5)) == pytest.approx(math.log(2))
    with pytest.raises(KexueError, match="expected 0..9"):
        class_entropy(np.array([0, 10]))
    with pytest.raises(KexueError, match="integer class labels"):
        class_entropy(np.array([0.5, 1.0]))


# ---------------------------------------------------------------------------- classifier
@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    from kexue.data.digits import load_digits, prepare_digits

    p = tmp_path_factory.mktemp("digits") / "digits.npz"
    prepare_digits(p)
    X, y = load_digits(p)
    X = 2.0 * X - 1.0  # the diffusion convention [-1, 1]
    return X[:1500], y[:1500], X[1500:], y[1500:]


@pytest.fixture(scope="module")
def trained(digits):
    Xtr, ytr, Xte, yte = digits
    return train_feature_classifier(Xtr, ytr, Xte, yte, seed=0, steps=600)


def test_classifier_learns_digits(trained, digits):
    model, acc = trained
    assert acc >= 0.9, acc
    assert model.config["arch"] == "mlp" and model.train_info["test_accuracy"] == acc
    F = features(model, digits[2])
    assert F.dtype == np.float64 and F.shape == (297, 64)
    assert (predict(model, digits[2]) == digits[3]).mean() == pytest.approx(acc)


def test_classifier_is_deterministic_and_keeps_global_rng(digits):
    Xtr, ytr, Xte, yte = digits
    state = torch.get_rng_state()
    a, _ = train_feature_classifier(Xtr, ytr, Xte, yte, seed=3, steps=20, arch="cnn", width=4)
    b, _ = train_feature_classifier(Xtr, ytr, Xte, yte, seed=3, steps=20, arch="cnn", width=4)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())
    c, _ = train_feature_classifier(Xtr, ytr, Xte, yte, seed=4, steps=20, arch="cnn", width=4)
    assert not torch.equal(a.state_dict()["head.weight"], c.state_dict()["head.weight"])


def test_save_load_roundtrip_and_config_check(trained, digits, tmp_path):
    model, acc = trained
    p = tmp_path / "clf.pt"
    save_feature_classifier(model, p)
    back = load_feature_classifier(p, expect={"side": 8, "feat_dim": 64, "seed": 0, "value_range": (-1, 1)})
    assert np.array_equal(features(back, digits[2]), features(model, digits[2]))
    assert back.train_info["test_accuracy"] == acc
    with pytest.raises(KexueError, match="has feat_dim = 64 but 32 is expected"):
        load_feature_classifier(p, expect={"feat_dim": 32})
    with pytest.raises(KexueError, match="do not fit config"):
        check_state_dict(model.state_dict(), classifier_config(8, arch="cnn"))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(KexueError, match="corrupt or unreadable"):
        load_feature_classifier(tmp_path / "junk.pt")


def test_classifier_bad_input(trained, digits):
    model, _ = trained
    Xtr, ytr, Xte, yte = digits
    with pytest.raises(KexueError, match=r"spans only \[0, 1\].*value_range"):
        train_feature_classifier((Xtr + 1) / 2, ytr, Xte, yte, seed=0, steps=1)
    with pytest.raises(KexueError, match="1499 labels for 1500 images"):
        train_feature_classifier(Xtr, ytr[:-1], Xte, yte, seed=0, steps=1)
    with pytest.raises(KexueError, match="trained at 8x8"):
        features(model, np.zeros((3, 14, 14)))
    with pytest.raises(KexueError, match="check_range=False"):
        features(model, 5.0 * np.ones((3, 64)))
    assert features(model, 5.0 * np.ones((3, 64)), check_range=False).shape == (3, 64)
    with pytest.raises(KexueError, match="NaN or inf"):
        features(model, np.full((2, 8, 8), np.nan))
    with pytest.raises(KexueError, match="not a square image"):
        features(model, np.zeros((2, 63)))


def test_sample_metrics_real_vs_real(trained, digits):
    model, _ = trained
    Xtr, _, Xte, _ = digits
    m = sample_metrics(model, Xte[:150], Xtr[:700], floor_real=Xtr, k=3)
    assert m[FD_NAME] > 0 and m["fd_floor"] > 0 and m["fd_floor_n"] == 150
    assert m[FD_NAME] < 3 * m["fd_floor"]  # held-out real digits sit near the real-vs-real floor
    assert m["precision"] > 0.6 and m["recall"] > 0.6  # k-NN balls at n = 150 in 64-d miss some real points
    assert m["fd_floor_std"] > 0
    assert m["class_entropy"] > 0.95 * math.log(10) and m["class_entropy_max"] == math.log(10)
    noise = np.random.default_rng(0).uniform(-1, 1, size=(150, 64))
    bad = sample_metrics(model, noise, Xtr[:700])
    assert bad[FD_NAME] > 10 * m[FD_NAME] and bad["precision"] < 0.05 and bad["recall"] < 0.05


def test_avg_pool_layouts_and_values():
    X = np.arange(2 * 16, dtype=np.float64).reshape(2, 16)  # two 4x4 images, flat
    P = avg_pool(X, 2)
    assert P.shape == (2, 4) and P[0].tolist() == [2.5, 4.5, 10.5, 12.5]
    assert np.array_equal(avg_pool(X.reshape(2, 1, 4, 4), 2), P.reshape(2, 1, 2, 2))
    assert torch.equal(avg_pool(torch.as_tensor(X).reshape(2, 4, 4), 2), torch.as_tensor(P).reshape(2, 2, 2))
    noise = np.random.default_rng(0).normal(size=(2000, 28, 28))
    assert avg_pool(noise, 2).shape == (2000, 14, 14) and avg_pool(noise, 2).std() == pytest.approx(0.5, rel=0.01)
    with pytest.raises(KexueError, match="not divisible by s = 3"):
        avg_pool(X, 3)


def test_cnn_at_14x14_runs(digits):
    """The 14x14 (pooled Fashion-MNIST) classifier shape: odd side after one maxpool."""
    rng = np.random.default_rng(0)
    X = np.clip(rng.normal(size=(64, 14, 14)), -1, 1)
    y = np.arange(64) % 10
    model, acc = train_feature_classifier(X, y, X, y, seed=0, steps=2, feat_dim=16, width=4)
    assert model.config["arch"] == "cnn" and features(model, X).shape == (64, 16) and 0 <= acc <= 1


# ---------------------------------------------------------------------------- grids
def test_grids_write_pngs(tmp_path):
    from kexue.image_grids import mosaic, save_sample_grid, save_trajectory_strip

    X = np.linspace(-1, 1, 5 * 64).reshape(5, 64)
    M = mosaic(X, 2, 3, pad=1)
    assert M.shape == (17, 26, 1) and np.isnan(M[8]).all() and np.isnan(M[9:, 18:]).all()  # pad row, empty tile
    assert M[0, 0, 0] == 0.0 and np.nanmax(M) == 1.0
    save_sample_grid(tmp_path / "g.png", np.random.default_rng(0).normal(size=(12, 1, 14, 14)), nrow=3, title="x")
    traj = np.random.default_rng(1).normal(size=(4, 5, 28, 28))
    save_trajectory_strip(tmp_path / "t.png", traj, times=[1000, 750, 500, 250, 0])
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "t.png").stat().st_size > 1000
    with pytest.raises(KexueError, match="times has 2 labels for 5 columns"):
        save_trajectory_strip(tmp_path / "u.png", traj, times=[1, 0])
