"""C8 of kexue.fm/archives/9607: MLPs on multitask sparse parity, across widths and steps.

run_study(cfg, ...) trains every (seed, width) run (kexue.sparse_parity_training.train_run, each in its own
resumable folder), optionally a D-sweep (fixed training sets, early stopping) and an exponent-vs-gamma sweep,
and returns (metrics, arrays). A subtask counts as learned when its test loss is below LEARNED_BITS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from kexue.data.sparse_parity import SparseParityTask
from kexue.fits import power_law_fit
from kexue.sparse_parity_training import RunConfig, eval_schedule, first_below, train_run, transition_width

LEARNED_BITS = 0.1       # the card's "subtask loss < 0.1 bits"
N_LEARNED_WINDOW = (3, 150)  # the card's A8 fit window on n_learned


@dataclass(frozen=True)
class SPConfig:
    n_bits: int
    k: int
    n_tasks: int
    zipf_exponent: float
    widths: tuple[int, ...]
    steps: int
    batch: int
    lr: float
    seeds: int
    test_per_task: int
    eval_points: int
    ckpt_every: int
    data_sizes: tuple[int, ...] = ()
    data_width: int = 500
    data_steps: int = 1000
    sweep_exponents: tuple[float, ...] = ()
    sweep_widths: tuple[int, ...] = ()
    sweep_steps: int = 1000
    bf16: bool = False


def _fit_or_none(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 3 or np.ptp(x) == 0 or np.any(y <= 0):
        return None
    return power_law_fit(x, y)


def _width_sweep(task, test, cfg, widths, steps, seed0, seeds, run, tag):
    """Mean over seeds of the per-subtask loss trajectories for each width: [W, n_eval, T]."""
    ev = eval_schedule(steps, cfg.eval_points)
    out = []
    for w in widths:
        per = []
        for s in range(seeds):
            rc = RunConfig(width=w, steps=steps, batch=cfg.batch, lr=cfg.lr, seed=seed0 + 1000 * s, eval_steps=ev,
                           ckpt_every=cfg.ckpt_every, bf16=cfg.bf16)
            per.append(run(task, test, rc, f"{tag}-w{w}-s{s}")["task_loss"])
        out.append(np.mean(per, axis=0))
    return np.array(ev), np.array(out)


def run_study(cfg: SPConfig, seed: int, device: str = "cpu", ckpt: Path | None = None, fingerprint: str = "",
              log=print):
    def run(task, test, rc, name):
        rd = None if ckpt is None else Path(ckpt) / name
        return train_run(task, test, rc, device=device, run_dir=rd, fingerprint=fingerprint, desc=f"a9607 {name}")

    task = SparseParityTask.make(cfg.n_tasks, cfg.n_bits, cfg.k, cfg.zipf_exponent, seed)
    test = task.per_task_set(cfg.test_per_task, seed=seed * 31 + 7)
    gamma = cfg.zipf_exponent - 1
    steps_ev, TL = _width_sweep(task, test, cfg, cfg.widths, cfg.steps, seed, cfg.seeds, run, "main")
    final = TL[:, -1, :]                                   # [W, T] bits
    mean_final = final @ task.probs
    n_learned = (final < LEARNED_BITS).sum(1)
    n_par = np.array([task.in_dim * w + w + 2 * w + 2 for w in cfg.widths], dtype=np.float64)
    inc = np.diff(mean_final)
    # widest run: emergence order and sharpness
    wide = TL[-1]
    first = first_below(wide, steps_ev, LEARNED_BITS)
    learned_wide = np.flatnonzero(final[-1] < LEARNED_BITS)
    rank = np.arange(1, cfg.n_tasks + 1)
    if learned_wide.size >= 2 and np.ptp(first[learned_wide]) > 0:
        rho = float(stats.spearmanr(rank[learned_wide], first[learned_wide]).statistic)
    else:
        rho = None
    tw = transition_width(wide, steps_ev)
    fit_all = _fit_or_none(n_par, mean_final)
    win = (n_learned >= N_LEARNED_WINDOW[0]) & (n_learned <= N_LEARNED_WINDOW[1])
    fit_win = _fit_or_none(n_par[win], mean_final[win])
    m = {"task": {"n_tasks": cfg.n_tasks, "n_bits": cfg.n_bits, "k": cfg.k, "zipf_exponent": cfg.zipf_exponent,
                  "gamma": gamma, "test_per_task": cfg.test_per_task},
         "widths": list(cfg.widths), "n_params": n_par.tolist(), "steps": cfg.steps, "batch": cfg.batch,
         "lr": cfg.lr, "seeds": cfg.seeds, "units": "bits",
         "mean_final_loss": mean_final.tolist(), "n_learned": n_learned.tolist(),
         "max_increase_with_width": float(inc.max()) if inc.size else 0.0,
         "narrowest_minus_widest": float(mean_final[0] - mean_final[-1]),
         "initial_mean_loss_widest": float(wide[0] @ task.probs),
         "widest_learned": learned_wide.tolist(), "widest_n_learned": int(learned_wide.size),
         "widest_first_step_below": [None if math.isnan(v) else float(v) for v in first],
         "spearman_rank_vs_first_step": rho,
         "transition_decades_median": (float(np.nanmedian(tw[learned_wide]))
                                       if learned_wide.size and np.isfinite(tw[learned_wide]).any() else None),
         "n_slope_all_widths": None if fit_all is None else {k: fit_all[k] for k in ("slope", "slope_ci", "r2", "n")},
         "n_slope_window": None if fit_win is None else {k: fit_win[k] for k in ("slope", "slope_ci", "r2", "n")},
         "n_window": list(N_LEARNED_WINDOW)}
    arrays = {"eval_steps": steps_ev, "task_loss": TL, "n_params": n_par, "widths": np.array(cfg.widths),
              "probs": task.probs, "mean_final": mean_final, "gamma": np.array(gamma)}
    log(f"widths {list(cfg.widths)}: mean loss {np.round(mean_final, 4).tolist()} bits, learned "
        f"{n_learned.tolist()}, spearman {rho}")

    if cfg.data_sizes:   # D-sweep (full profile): fixed training sets, minimum test loss over training
        best = []
        ev = eval_schedule(cfg.data_steps, cfg.eval_points)
        for D in cfg.data_sizes:
            rc = RunConfig(width=cfg.data_width, steps=cfg.data_steps, batch=cfg.batch, lr=cfg.lr, seed=seed,
                           eval_steps=ev, data_size=D, ckpt_every=cfg.ckpt_every, bf16=cfg.bf16)
            best.append(float(run(task, test, rc, f"data-D{D}")["mean_loss"].min()))
        fD = _fit_or_none(cfg.data_sizes, best)
        m["d_sweep"] = {"sizes": list(cfg.data_sizes), "min_mean_loss": best, "width": cfg.data_width,
                        "slope": None if fD is None else fD["slope"],
                        "slope_ci": None if fD is None else fD["slope_ci"], "theory": -gamma / (gamma + 1)}
        arrays.update(d_sizes=np.array(cfg.data_sizes, float), d_loss=np.array(best))

    if cfg.sweep_exponents:  # exponent-vs-gamma sweep (full profile)
        rows = []
        for e in cfg.sweep_exponents:
            t2 = SparseParityTask.make(cfg.n_tasks, cfg.n_bits, cfg.k, e, seed)
            te2 = t2.per_task_set(cfg.test_per_task, seed=seed * 31 + 7)
            _, tl = _width_sweep(t2, te2, cfg, cfg.sweep_widths, cfg.sweep_steps, seed, cfg.seeds, run, f"sweep-{e:g}")
            fin = tl[:, -1, :]
            np_ = np.array([t2.in_dim * w + w + 2 * w + 2 for w in cfg.sweep_widths], float)
            nl = (fin < LEARNED_BITS).sum(1)
            w = (nl >= N_LEARNED_WINDOW[0]) & (nl <= N_LEARNED_WINDOW[1])
            f = _fit_or_none(np_[w], (fin @ t2.probs)[w])
            rows.append({"zipf_exponent": e, "gamma": e - 1, "alpha_N": None if f is None else -f["slope"]})
        ok = [r for r in rows if r["alpha_N"] is not None]
        r = float(stats.pearsonr([x["gamma"] for x in ok], [x["alpha_N"] for x in ok]).statistic) if len(ok) >= 3 else None
        m["gamma_sweep"] = {"rows": rows, "pearson_r": r}
        arrays.update(sweep_gamma=np.array([x["gamma"] for x in rows]),
                      sweep_alpha=np.array([np.nan if x["alpha_N"] is None else x["alpha_N"] for x in rows]))
    return m, arrays
