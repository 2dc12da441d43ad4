"""Sample-quality metrics in the feature space of a small classifier (kexue.feature_classifier).

    fd = frechet_distance(F_samples, F_real)              # report as FD_NAME, never "FID"
    floor = fd_floor(F_real_pool, n=len(F_samples))["fd_floor"]  # real-vs-real FD, same n
    pr = precision_recall(F_real, F_samples, k=3)         # {"precision", "recall"}
    H = class_entropy(predict(model, samples))            # nats; log 10 = every class equally often
    sample_metrics(model, samples, real)                  # all of the above in one dict

Conventions
- Features are rows: float64 numpy [n, d] (torch tensors and float32 are accepted and
  converted). Every function validates its input first (KexueError naming the argument).
- Frechet distance between the Gaussian fits N(mu, S) of two feature sets, S the unbiased
  (ddof=1) covariance:  FD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}).
  Tr (S1 S2)^{1/2} is computed as the sum of square roots of the eigenvalues of the symmetric
  PSD matrix S1^{1/2} S2 S1^{1/2} (same spectrum as S1 S2), so there is no non-symmetric sqrtm,
  no imaginary parts to discard, and round-off negatives are clipped at 0.
- The estimate is biased upward at finite n (roughly like d/n): it is only comparable between
  runs with the same n and the same classifier, hence `fd_floor`, the FD of two disjoint real
  subsets of the same size, printed next to every FD. Classifier features are not Inception
  features: never compare with published FIDs — that is why the name is a constant.
- Precision/recall are the k-NN manifold estimates of Kynkaanniemi et al. (2019): a sample is
  "precise" if it falls in some real point's ball of radius = distance to that real point's
  k-th nearest real neighbour; recall swaps the roles. k = 3 is the paper's default.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError

FD_NAME = "FD (classifier features)"
DEFAULT_K = 3


# ---------------------------------------------------------------------------- validation
def _as_features(F, name: str) -> np.ndarray:
    if hasattr(F, "detach"):  # torch tensor on any device
        F = F.detach().cpu().numpy()
    F = np.asarray(F, dtype=np.float64)
    if F.ndim != 2 or F.shape[0] < 1 or F.shape[1] < 1:
        raise KexueError(f"{name} has shape {F.shape}; pass features as a 2-D array [n_samples, n_features]")
    if not np.isfinite(F).all():
        raise KexueError(f"{name} contains {int((~np.isfinite(F)).sum())} NaN/inf values; the samples (or the "
                         "classifier) diverged: check the generator output before computing metrics")
    return F


def _same_dim(F1: np.ndarray, F2: np.ndarray, n1: str, n2: str) -> None:
    if F1.shape[1] != F2.shape[1]:
        raise KexueError(f"{n1} has {F1.shape[1]} features per row but {n2} has {F2.shape[1]}: "
                         "compute both with the same classifier")


# ---------------------------------------------------------------------------- Frechet distance
def gaussian_stats(F, name: str = "features") -> tuple[np.ndarray, np.ndarray]:
    """(mean [d], unbiased covariance [d, d]) in float64; needs n >= d + 1 rows."""
    F = _as_features(F, name)
    n, d = F.shape
    if n < d + 1:
        raise KexueError(f"{name} has {n} samples of dimension {d}: a covariance needs at least d + 1 = {d + 1} "
                         "samples (use more samples or a classifier with a smaller feat_dim)")
    return F.mean(axis=0), np.cov(F, rowvar=False, ddof=1).reshape(d, d)


def _psd_sqrt(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def _check_cov(S, d: int, name: str) -> np.ndarray:
    S = np.asarray(S, dtype=np.float64)
    if S.shape != (d, d):
        raise KexueError(f"{name} has shape {S.shape}; expected ({d}, {d}) to match the mean")
    if not np.isfinite(S).all():
        raise KexueError(f"{name} contains NaN/inf values")
    scale = max(float(np.abs(S).max()), 1e-300)
    if np.abs(S - S.T).max() > 1e-8 * scale:
        raise KexueError(f"{name} is not symmetric (max |S - S^T| = {np.abs(S - S.T).max():.3g}); pass a covariance")
    S = 0.5 * (S + S.T)
    wmin = float(np.linalg.eigvalsh(S)[0])
    if wmin < -1e-8 * scale:
        raise KexueError(f"{name} has a negative eigenvalue {wmin:.3g}; a covariance is positive semi-definite")
    return S


def frechet_distance_gaussians(mu1, S1, mu2, S2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}), the 2-Wasserstein distance^2 of two Gaussians."""
    mu1, mu2 = np.asarray(mu1, dtype=np.float64).ravel(), np.asarray(mu2, dtype=np.float64).ravel()
    if mu1.shape != mu2.shape:
        raise KexueError(f"mu1 has {mu1.size} entries, mu2 {mu2.size}: the feature dimensions differ")
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all()):
        raise KexueError("mu1 or mu2 contains NaN/inf values")
    d = mu1.size
    S1, S2 = _check_cov(S1, d, "S1"), _check_cov(S2, d, "S2")
    R = _psd_sqrt(S1)
    M = R @ S2 @ R
    eig = np.linalg.eigvalsh(0.5 * (M + M.T))  # spectrum of S1 S2, real and >= 0 up to round-off
    tr_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    fd = float(np.sum((mu1 - mu2) ** 2) + np.trace(S1) + np.trace(S2) - 2.0 * tr_sqrt)
    if not math.isfinite(fd):
        raise KexueError(f"Frechet distance came out {fd}; the feature scale overflows float64")
    return max(fd, 0.0)  # a true FD is >= 0; tiny negatives are cancellation in Tr S1 + Tr S2 - 2 Tr sqrt


def frechet_distance(F1, F2) -> float:
    """FD between the Gaussian fits of two feature sets (report under FD_NAME)."""
    F1, F2 = _as_features(F1, "F1"), _as_features(F2, "F2")
    _same_dim(F1, F2, "F1", "F2")
    return frechet_distance_gaussians(*gaussian_stats(F1, "F1"), *gaussian_stats(F2, "F2"))


def fd_floor(F_real, n: int, *, seed: int = 0, repeats: int = 1) -> dict:
    """Real-vs-real FD: two disjoint random subsets of size n each (mean over `repeats` draws).

    Pass n = the number of samples the reported FD used: the finite-n bias then matches, and
    an FD within a few times the floor means "indistinguishable at this sample size"."""
    F = _as_features(F_real, "F_real")
    if n < F.shape[1] + 1:
        raise KexueError(f"fd_floor n = {n}: needs n >= feature dim + 1 = {F.shape[1] + 1}")
    if 2 * n > len(F):
        raise KexueError(f"fd_floor needs 2n = {2 * n} real rows for two disjoint subsets, F_real has {len(F)}: "
                         "lower n or pool more real images (e.g. train + held-out)")
    if repeats < 1:
        raise KexueError(f"fd_floor repeats = {repeats}: must be >= 1")
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(repeats):
        perm = rng.permutation(len(F))
        vals.append(frechet_distance(F[perm[:n]], F[perm[n:2 * n]]))
    return {"fd_floor": float(np.mean(vals)), "fd_floor_std": float(np.std(vals, ddof=1)) if repeats > 1 else None,
            "values": vals, "n": int(n), "repeats": int(repeats)}


# ---------------------------------------------------------------------------- precision / recall
def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    return np.maximum(d, 0.0)


def _knn_radii2(F: np.ndarray, k: int, chunk: int) -> np.ndarray:
    """Squared distance of each row to its k-th nearest other row (index k counts the row itself at 0)."""
    out = np.empty(len(F))
    for i in range(0, len(F), chunk):
        d = _sqdist(F[i:i + chunk], F)
        out[i:i + chunk] = np.partition(d, k, axis=1)[:, k]
    return out


def _covered(Q: np.ndarray, ref: np.ndarray, radii2: np.ndarray, chunk: int) -> np.ndarray:
    hit = np.empty(len(Q), dtype=bool)
    for i in range(0, len(Q), chunk):
        hit[i:i + chunk] = (_sqdist(Q[i:i + chunk], ref) <= radii2[None, :]).any(axis=1)
    return hit


def precision_recall(F_real, F_fake, k: int = DEFAULT_K, chunk: int = 1024) -> dict:
    """Kynkaanniemi et al. (2019) improved precision and recall, k-NN balls in feature space.

    precision = fraction of fake rows inside the real manifold (quality);
    recall    = fraction of real rows inside the fake manifold (coverage of the modes).
    Memory is chunk x n per block, so 10k x 10k runs in ~80 MB blocks."""
    R, G = _as_features(F_real, "F_real"), _as_features(F_fake, "F_fake")
    _same_dim(R, G, "F_real", "F_fake")
    if not isinstance(k, (int, np.integer)) or k < 1 or k >= min(len(R), len(G)):
        raise KexueError(f"precision_recall k = {k!r}: need 1 <= k < min(n_real, n_fake) = {min(len(R), len(G))}")
    if chunk < 1:
        raise KexueError(f"precision_recall chunk = {chunk}: must be >= 1")
    precision = _covered(G, R, _knn_radii2(R, int(k), chunk), chunk).mean()
    recall = _covered(R, G, _knn_radii2(G, int(k), chunk), chunk).mean()
    return {"precision": float(precision), "recall": float(recall), "k": int(k)}


# ---------------------------------------------------------------------------- mode coverage
def class_entropy(labels, n_classes: int = 10) -> float:
    """Entropy (nats) of the histogram of predicted labels: log(n_classes) when every class
    is generated equally often, 0 for a generator that collapsed onto one class."""
    y = np.asarray(labels.detach().cpu() if hasattr(labels, "detach") else labels).reshape(-1)
    if y.size == 0:
        raise KexueError("class_entropy: labels are empty; pass the predicted label of each sample")
    if not np.issubdtype(y.dtype, np.integer):
        raise KexueError(f"class_entropy: labels have dtype {y.dtype}; pass integer class labels "
                         "(predict(), not features)")
    if y.min() < 0 or y.max() >= n_classes:
        raise KexueError(f"class_entropy: labels span [{y.min()}, {y.max()}], expected 0..{n_classes - 1}; "
                         "set n_classes")
    p = np.bincount(y, minlength=n_classes) / y.size
    p = p[p > 0]
    return float(-(p * np.log(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


# ---------------------------------------------------------------------------- everything at once
def sample_metrics(model, samples, real, *, floor_real=None, k: int = DEFAULT_K, seed: int = 0,
                   floor_repeats: int = 5, check_range: bool = True) -> dict:
    """FD, its real-vs-real floor, precision/recall and class entropy of `samples` vs `real`
    images through the metric classifier `model` (kexue.feature_classifier).

    The floor uses `floor_real` (default: `real`) with n = min(n_samples, n_floor_real // 2),
    reported as fd_floor_n, averaged over `floor_repeats` draws (one draw at n ~ 150 scatters
    by ~30%; fd_floor_std says how much): when the held-out set is small (digits: 297 images) pass train +
    held-out images as floor_real, and read the floor as approximate if fd_floor_n < n_samples."""
    from kexue.feature_classifier import features, predict

    Fs = features(model, samples, check_range=check_range)
    Fr = features(model, real)
    Ff = Fr if floor_real is None else features(model, floor_real)
    n_floor = min(len(Fs), len(Ff) // 2)
    out = {FD_NAME: frechet_distance(Fs, Fr), "n_samples": len(Fs), "n_real": len(Fr)}
    floor = fd_floor(Ff, n_floor, seed=seed, repeats=floor_repeats)
    out.update({"fd_floor": floor["fd_floor"], "fd_floor_std": floor["fd_floor_std"], "fd_floor_n": floor["n"]})
    out.update(precision_recall(Fr, Fs, k=k))
    n_classes = model.config["n_classes"]
    out["class_entropy"] = class_entropy(predict(model, samples, check_range=check_range), n_classes)
    out["class_entropy_max"] = math.log(n_classes)
    return out
