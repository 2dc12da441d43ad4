"""kexue.fm/archives/9660: gradient flow, from gradient descent to Wasserstein gradient flows.

euclidean -> C1-C5: GD vs the gradient flow, the dissipation identity, steepest descent under other
norms, proximal and KL-penalised (natural-gradient) steps;
wasserstein_1d -> C6, C7, C10 (Fokker–Planck / Wasserstein flows on a 1-D grid, kexue.fokker_planck)
and C9 (Gaussian-restricted JKO steps);
particles -> C8 (exact-OU, ULA and probability-flow particles against closed forms and the PDE);
figures -> the card's figures (a)-(f).
This module declares the article; the stage functions live in stages/a9660_stages.py.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9660_stages import D, euclidean, figures, fp2d, particles, wasserstein_1d


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # euclidean (C1-C5)
    horizon: float = Field(gt=0, le=100, description="fixed time horizon T of the GD-vs-flow error (C1)")
    alphas_L: list[float] = Field(min_length=3, description="step sizes alpha * L (C1, C4); each in (0, 2)")
    mono_alphas_L: list[float] = Field(min_length=1, description="extra alpha * L < 2 for the GD-descent check (C2)")
    mono_horizon: float = Field(gt=0, le=100)
    sphere_points: int = Field(ge=1000, le=10**7, description="points on each 2-D unit sphere (multiple of 8)")
    eps_values: list[float] = Field(min_length=1, description="radii of the steepest-descent balls (C3)")
    prox_trials: int = Field(ge=1, le=1000, description="starting points per function (C4)")
    prox_monotone_alphas_L: list[float] = Field(min_length=1, description="large alpha * L for f(prox) <= f(x_t)")
    c5_mu: float
    c5_sigma: float = Field(gt=0)
    c5_alpha_lo: float = Field(gt=0, lt=1)
    c5_alpha_hi: float = Field(gt=0, lt=1)
    c5_alpha_n: int = Field(ge=3, le=100)
    # wasserstein_1d (C6, C7, C9, C10) and particles (C8)
    x_lo: float
    x_hi: float
    cells: int = Field(ge=3, le=10**6, description="finite-volume cells on [x_lo, x_hi]")
    dt: float = Field(gt=0, le=1)
    t_end: float = Field(gt=0, le=1000)
    meta_t_end: float = Field(gt=0, le=1000)
    fwd_t_end: float = Field(gt=0, le=1000)
    gauss_mu: float
    gauss_sd: float = Field(gt=0)
    gauss_m0: float
    gauss_sd0: float = Field(gt=0)
    snapshot_times: list[float] = Field(min_length=1)
    particle_times: list[float] = Field(min_length=1)
    w1_time: float = Field(gt=0)
    jko_alphas: list[float] = Field(min_length=3)
    jko_horizon: float = Field(gt=0, le=100)
    n_particles: int = Field(ge=100, le=10**7)
    ula_h: float = Field(gt=0, le=0.5)
    n_boot: int = Field(ge=20, le=10**4)
    w1_boot_subsample: int = Field(ge=100, le=10**7)
    n_null: int = Field(ge=2, le=10**4, description="exact-sample repeats for the W1 noise floor")
    # fp2d: the card's full-profile 2-D Fokker–Planck (0 cells = skipped)
    fp2d_cells: int = Field(ge=0, le=1000, description="cells per axis of the 2-D grid; 0 skips the 2-D run")
    fp2d_lo: float
    fp2d_hi: float
    fp2d_t_end: float = Field(gt=0, le=1000)
    fp2d_particles: int = Field(ge=100, le=10**7)
    fp2d_particle_time: float = Field(gt=0)
    fp2d_ula_h: float = Field(gt=0, le=0.5)

    @model_validator(mode="after")
    def _rules(self):
        if any(not 0 < a < 2 for a in [*self.alphas_L, *self.mono_alphas_L]):
            raise ValueError("alphas_L and mono_alphas_L must lie in (0, 2): GD descends only for alpha < 2/L")
        if any(a <= 0 for a in [*self.eps_values, *self.prox_monotone_alphas_L, *self.jko_alphas]):
            raise ValueError("eps_values, prox_monotone_alphas_L and jko_alphas must be positive")
        if self.sphere_points % 8:
            raise ValueError(f"sphere_points = {self.sphere_points} must be a multiple of 8 (sphere vertices on the grid)")
        if self.c5_alpha_lo >= self.c5_alpha_hi:
            raise ValueError("c5_alpha_lo must be below c5_alpha_hi")
        if self.x_lo >= self.x_hi:
            raise ValueError(f"x_lo = {self.x_lo} must be below x_hi = {self.x_hi}")
        for name in ("snapshot_times", "particle_times"):
            ts = getattr(self, name)
            if any(not 0 < t <= self.t_end for t in ts):
                raise ValueError(f"{name} must lie in (0, t_end = {self.t_end}]")
        if self.fp2d_cells and self.fp2d_cells < 3:
            raise ValueError(f"fp2d_cells = {self.fp2d_cells}: use 0 (skip) or at least 3 cells per axis")
        if self.fp2d_lo >= self.fp2d_hi or self.fp2d_particle_time > self.fp2d_t_end:
            raise ValueError("need fp2d_lo < fp2d_hi and fp2d_particle_time <= fp2d_t_end")
        for t, h in ((self.fp2d_particle_time, self.fp2d_ula_h), (self.fp2d_particle_time, self.dt)):
            if abs(round(t / h) * h - t) > 1e-9:
                raise ValueError(f"fp2d_particle_time = {t} must be a multiple of {h} (fp2d_ula_h and dt)")
        if self.w1_time > self.t_end:
            raise ValueError(f"w1_time = {self.w1_time} must be <= t_end = {self.t_end}")
        for t in [*self.snapshot_times, self.w1_time]:
            if abs(round(t / self.ula_h) * self.ula_h - t) > 1e-9 or abs(round(t / self.dt) * self.dt - t) > 1e-9:
                raise ValueError(f"time {t} must be a multiple of dt = {self.dt} and ula_h = {self.ula_h}")
        for a in self.jko_alphas:
            if abs(round(self.jko_horizon / a) * a - self.jko_horizon) > 1e-9:
                raise ValueError(f"jko alpha {a} must divide jko_horizon = {self.jko_horizon}")
        return self


# ------------------------------------------------------------------------------------------ claims
def _eps_index(m):
    eps = m["c3"]["eps"]
    if 1e-3 not in eps:
        raise KeyError("eps = 1e-3 was not measured")
    return eps.index(1e-3)


def check_c1(m, profile):
    c = m["c1"]
    txt = "; ".join(f"{k}: order {v['order']:.3f} [{v['order_ci'][0]:.3f}, {v['order_ci'][1]:.3f}], error "
                    f"{v['error'][0]:.2e} -> {v['error'][-1]:.2e} over alpha L in [{v['alpha'][-1] * v['L']:.3g}, "
                    f"{v['alpha'][0] * v['L']:.3g}]" for k, v in c.items())
    return Outcome(txt, all(0.9 <= v["order"] <= 1.1 for v in c.values()))


def check_c2(m, profile):
    c = m["c2"]
    ok = all(v["dissipation_rel_max"] <= 1e-4 and all(v["gd_strictly_decreasing"].values()) for v in c.values())
    txt = "; ".join(f"{k}: max |df/dt + |grad f|^2| / |grad f|^2 = {v['dissipation_rel_max']:.1e}, GD strictly "
                    f"decreasing for {sum(v['gd_strictly_decreasing'].values())}/{len(v['gd_strictly_decreasing'])} "
                    f"step sizes up to {max(v['gd_strictly_decreasing'], key=lambda s: float(s[:-2]))}"
                    for k, v in c.items())
    return Outcome(txt, ok)


def check_c3(m, profile):
    i = _eps_index(m)
    c = m["c3"]
    parts, ok = [], True
    for dim in ("2d", "5d"):
        for nm, v in c[dim].items():
            a = v["angle_deg"][i]
            match = v["coord_match"][i] if "coord_match" in v else True
            ok &= a <= 2.0 and match
            note = "" if "coord_match" not in v else (" (coordinate matches)" if match else " (coordinate differs)")
            parts.append(f"{dim} {nm} {a:.3g}°{note}")
    return Outcome("angle(argmin, predicted) at eps = 1e-3: " + ", ".join(parts), ok,
                   "2-D: brute force over the true f on each unit sphere; 5-D: SLSQP (l2, M) on the true f, "
                   "LP on the linear model (l1, l_inf).")


def check_c4(m, profile):
    c = m["c4"]
    ok = all(1.8 <= v["order_min"] and v["order_max"] <= 2.2 and v["f_not_increased"] == v["trials"] for v in c.values())
    txt = "; ".join(f"{k}: fitted exponent of |prox - GD| in [{v['order_min']:.3f}, {v['order_max']:.3f}] over "
                    f"{len(v['orders'])} starting points, f(prox) <= f(x_t) in {v['f_not_increased']}/{v['trials']}"
                    for k, v in c.items())
    return Outcome(txt, ok)


def check_c5(m, profile):
    c = m["c5"]
    small = [(a, r) for a, r in zip(c["alpha"], c["rel_gap"]) if a <= 1e-2]
    if not small:
        raise KeyError("no alpha <= 1e-2 measured")
    worst = max(r / a for a, r in small)
    ok = worst <= 10 and 1.8 <= c["order"] <= 2.2 and c["grad_fd"] <= 1e-8
    return Outcome(f"|KL step - natural step| / |natural step| <= {worst:.2f} alpha for alpha <= 1e-2; fitted exponent "
                   f"{c['order']:.3f} [{c['order_ci'][0]:.3f}, {c['order_ci'][1]:.3f}] over alpha in "
                   f"[{c['alpha'][0]:.0e}, {c['alpha'][-1]:.0e}]; |grad KL at x_t| = {c['grad_fd']:.1e} (central "
                   f"differences; analytic {c['grad_analytic']:.0e}); Hessian vs F: rel. err {c['hess_rel_err']:.1e}",
                   ok, "Penalty KL(p_x || p_{x_t}) as in the article, x_t = (0.5, log 1.5).")


def check_c6(m, profile):
    w = m["wflow"]
    g, x = w["gaussian"], w["mixture"]
    ok = (all(v["max_kl_increase"] <= 1e-10 and v["kl_T"] <= 1e-3 for v in (g, x))
          and g["closed_form_max_abs_err"] <= 1e-3)
    meas = (f"Gaussian: KL {g['kl_0']:.3g} -> {g['kl_T']:.1e} at T = {g['T']:g}, max step increase "
            f"{g['max_kl_increase']:.1e}, max |KL - closed form| {g['closed_form_max_abs_err']:.1e}; mixture: KL "
            f"{x['kl_0']:.3g} -> {x['kl_T']:.2e}, max increase {x['max_kl_increase']:.1e}; mass error <= "
            f"{max(g['mass_err'], x['mass_err']):.0e} ({w['grid']['cells']} cells, dt = {w['grid']['dt']})")
    detail = (f"Not gated: metastable 0.3 N(-2, 0.5^2) + 0.7 N(2, 1) still has KL = {w['metastable']['kl_T']:.3f} at "
              f"T = {w['metastable']['T']:g}; Gaussian target from q0 = N(-6, 1): max |KL - closed form| = "
              f"{w['gaussian_far']['closed_form_max_abs_err']:.1e} (backward Euler's O(dt) error scales with KL(0) = "
              f"{w['gaussian_far']['kl_0']:.0f}); fixed-point residual |A p| / max p = "
              f"{w['gaussian']['fixed_point_residual']:.0e}.")
    f2 = m.get("fp2d", {})
    if f2.get("measured"):
        detail += (f" 2-D ({f2['cells']} x {f2['cells']} cells, not gated): KL {f2['kl_0']:.3g} -> {f2['kl_T']:.2e} at "
                   f"T = {f2['T']:g}, max step increase {f2['max_kl_increase']:.1e}, mass error {f2['mass_err']:.0e}.")
    return Outcome(meas, ok, detail)


def check_c7(m, profile):
    w = m["wflow"]
    vals = {k: w[k]["dissipation_rel_max"] for k in ("gaussian", "mixture")}
    if any(v is None for v in vals.values()):
        raise KeyError("no time points with KL > 1e-4")
    return Outcome("max |dKL/dt + I| / I for t >= 10 dt with KL > 1e-4: " + ", ".join(
        f"{k} {v:.2e} ({w[k]['dissipation_points']} points)" for k, v in vals.items()), max(vals.values()) <= 0.03)


def check_c8(m, profile):
    g, x = m["particles"]["gaussian"], m["particles"]["mixture"]
    zs = [(kind, e["t"], e["mean_z"], e["var_z"]) for kind in ("ou", "ode") for e in g[kind]]
    worst = max(max(abs(a), abs(b)) for *_, a, b in zs)
    ok = worst <= 3 and x["w1"] <= 0.05
    e = g["ode"][-1]
    b, fl = x["w1_boot"], x["w1_exact_sample_floor"]
    return Outcome(f"Gaussian (n = {g['n']}): max |error| / s.e. over mean and variance, exact-OU and ODE particles at "
                   f"t = {', '.join(f'{t:g}' for t in sorted({z[1] for z in zs}))}: {worst:.2f} (e.g. ODE at t = "
                   f"{e['t']:g}: var {e['var']['mean']:.4f} [{e['var']['lo']:.4f}, {e['var']['hi']:.4f}] vs "
                   f"{e['var_true']:.4f}); mixture ULA (h = {x['h']}, n = {x['n']}): W1 to the PDE at T = {x['T']:g} "
                   f"= {x['w1']:.4f}, bootstrap {b['estimate']:.4f} [{b['lo']:.4f}, {b['hi']:.4f}] "
                   f"(n = {b['n']}, {b['n_boot']} resamples, 95%); exact samples of the PDE density give "
                   f"W1 = {fl['mean']:.4f} [{fl['lo']:.4f}, {fl['hi']:.4f}] ({fl['n']} repeats, 95%; noise floor at this n)", ok,
                   "W1 uses scipy.stats.wasserstein_distance between the particles and the PDE's cell centres "
                   "weighted by q dx, so it also contains a grid term of about dx/4. What W1 has above the noise floor "
                   f"is time-step error: ULA mean {x['mean']['mean']:.4f} [{x['mean']['lo']:.4f}, {x['mean']['hi']:.4f}] "
                   f"(n = {x['mean']['n']}) vs PDE mean {x['mean_pde']:.4f}; explicit ULA runs ahead and backward Euler "
                   "lags, with O(h) and O(dt) errors of opposite sign." + _fp2d_particles(m))


def _fp2d_particles(m):
    f2 = m.get("fp2d", {})
    if not f2.get("measured"):
        return ""
    q = f2["particles"]
    means = ", ".join(f"{k}: {q['mean'][k]['mean']:.4f} [{q['mean'][k]['lo']:.4f}, {q['mean'][k]['hi']:.4f}] vs PDE "
                      f"{q['mean_pde'][k]:.4f}" for k in ("x", "y"))
    return (f" 2-D (not gated; {f2['cells']} x {f2['cells']} cells, n = {q['n']} ULA particles, h = {q['h']}) at "
            f"t = {q['t']:g}: marginal W1 x {q['w1_marginal']['x']:.4f}, y {q['w1_marginal']['y']:.4f}; means {means}.")


def check_c9(m, profile):
    j = m["wflow"]["jko"]
    err = j["error"]
    pairs = sorted(zip(j["alpha"], err))
    dec = all(e1 < e2 for (_, e1), (_, e2) in zip(pairs, pairs[1:]))
    ok = dec and 0.8 <= j["order"] <= 1.2
    return Outcome(f"error at T = {j['T']:g}: " + ", ".join(f"alpha {a:g}: {e:.2e}" for a, e in zip(j['alpha'], err))
                   + f"; fitted order {j['order']:.3f} [{j['order_ci'][0]:.3f}, {j['order_ci'][1]:.3f}]", ok,
                   f"JKO minimiser = implicit-Euler step of the moment ODEs to {j['max_dev_from_implicit_euler']:.0e}.")


def check_c10(m, profile):
    f = m["wflow"]["forward"]
    return Outcome(f"KL(p || q_t) {f['kl_fwd_0']:.3f} -> {f['kl_fwd_T']:.3f} at T = {f['T']:g}, max step increase "
                   f"{f['max_increase']:.1e}, mass error {f['mass_err']:.0e} (q0 = N({f['q0'][0]:g}, {f['q0'][1]:g}))",
                   f["max_increase"] <= 1e-9 and f["mass_err"] <= 1e-8)


DEF = ("default", "full")
CLAIMS = (
    Claim("C1", "Gradient descent $x_{k+1} = x_k - \\alpha\\nabla f(x_k)$ tracks the gradient flow "
          "$\\dot x = -\\nabla f(x)$ with global error $O(\\alpha)$ on a fixed horizon.",
          "fitted order in [0.9, 1.1] (quadratic diag(1, 10) and log-sum-exp, T = 1)", check_c1),
    Claim("C2", "Along the flow $\\frac{d}{dt}f(x_t) = -\\|\\nabla f(x_t)\\|^2 \\le 0$; GD also decreases f for "
          "small enough $\\alpha$.", "rel. mismatch <= 1e-4; f strictly decreasing for alpha < 2/L", check_c2),
    Claim("C3", "The first-order steepest-descent direction in a norm ball is $-\\nabla f/\\|\\nabla f\\|_2$ (Euclidean), "
          "$-\\mathrm{sign}(\\nabla f)$ ($\\ell_\\infty$), the largest $|\\partial_i f|$ coordinate ($\\ell_1$) and "
          "$-M^{-1}\\nabla f$ ($\\|v\\|_M = \\sqrt{v^\\top M v}$).", "angle <= 2° at eps = 1e-3", check_c3),
    Claim("C4", "The proximal step $\\arg\\min_x \\frac{\\|x - x_t\\|^2}{2\\alpha} + f(x)$ equals the GD step up to "
          "$O(\\alpha^2)$ and never increases f.", "exponent in [1.8, 2.2]; f(prox) <= f(x_t) always", check_c4),
    Claim("C5", "The KL-penalised step matches the natural-gradient step $x_t - \\alpha F^{-1}\\nabla f$ up to "
          "$O(\\alpha^2)$; KL has no first-order term.", "gap <= 10 alpha (calibration 4.4 alpha), exponent 1.93, "
          "|grad KL| <= 1e-8", check_c5),
    Claim("C6", "For $\\mathcal F = \\mathrm{KL}(q\\|p)$ the Wasserstein flow is the Fokker–Planck equation of Langevin "
          "dynamics, $\\partial_t q = -\\partial_x(q\\,\\partial_x\\log p) + \\partial_x^2 q$; KL decreases monotonically "
          "and $q_t \\to p$.", "KL monotone (1e-10), KL(20) <= 1e-3 (mixture calibration 5.6e-5); Gaussian "
          "closed form within 1e-3", check_c6,
          note="Gaussian case: p = N(0, 1), q0 = N(-1, 0.5^2). The 1e-3 closed-form gate includes backward Euler's "
               "O(dt) error, which is proportional to the initial KL: it holds for this O(1) start, not from "
               "N(-6, 1) (reported in the detail)."),
    Claim("C7", "Energy dissipation: $\\frac{d}{dt}\\mathrm{KL}(q_t\\|p) = -\\int q_t(\\partial_x\\log\\frac{q_t}{p})^2dx$, "
          "minus the relative Fisher information (card addition).", "rel. mismatch <= 0.03 (calibration 0.015)",
          check_c7, expected_at=DEF),
    Claim("C8", "The deterministic particle ODE $\\dot x = \\nabla\\log p - \\nabla\\log q_t$ transports the same "
          "marginals as the Langevin SDE $dx = \\nabla\\log p\\,dt + \\sqrt2\\,dw$.",
          "moments within 3 s.e. at t = 0.5, 1, 2; W1(ULA, PDE) <= 0.05 at T = 5", check_c8, expected_at=DEF),
    Claim("C9", "The Wasserstein proximal (JKO) step $\\arg\\min_q \\frac{\\mathcal W_2^2[q, q_t]}{2\\alpha} + "
          "\\mathcal F[q]$, iterated, converges to the flow $q_t$ with error $O(\\alpha)$ (Gaussian family).",
          "error decreasing in alpha, order in [0.8, 1.2]", check_c9),
    Claim("C10", "For a general f-divergence, e.g. forward KL ($f(r) = r\\log r$, $f - rf' = -r$), the flow "
          "$\\partial_t q = -\\partial_x(q\\,\\partial_x(p/q))$ decreases $\\mathcal D_f(p\\|q_t)$ monotonically.",
          "monotone (1e-9), mass within 1e-8", check_c10, expected_at=DEF,
          note="Target: the mixture 0.5 N(-1.5, 1) + 0.5 N(1.5, 1); q0 = N(-3, 2^2). The forward-KL flux is the "
               "Fokker–Planck flux times the mobility p/q, which explodes where q's tails are lighter than p's: "
               "from q0 = N(-6, 1) the linearly implicit scheme loses mass (5e-5 at 400 cells) and then positivity, "
               "so q0 must have tails at least as heavy as p's."),
)

FIGURES = (
    Figure("gd_paths.png", "(a) GD iterates and the gradient flow",
           "Contours of f = (x^2 + 10 y^2)/2 with GD iterates for alpha L = 0.1, 0.5, 1.5, 1.9 and the exact flow "
           "curve from (1, 1) (C1, C2).", "euclidean"),
    Figure("orders.png", "(b) Error against step size",
           "GD global error on [0, 1] vs alpha for both test functions (slope-1 guide, C1); |prox - GD| and "
           "|KL step - natural step| (slope-2 guides, C4, C5).", "euclidean"),
    Figure("norm_balls.png", "(c) Steepest descent under four norms",
           "Unit balls of l2, l_inf, l1 and the M-norm with the predicted direction (arrow), the brute-force "
           "argmin at eps = 1e-3 (dot) and -grad f (grey) (C3).", "euclidean"),
    Figure("densities.png", "(d) Fokker–Planck snapshots with particles",
           "PDE solutions q_t (lines) with particle histograms (steps): left, Gaussian target with exact-OU and "
           "probability-flow particles; right, the mixture with ULA particles; dashed: the target p (C6, C8).",
           "particles"),
    Figure("kl_decay.png", "(e) KL decay and dissipation",
           "Left: KL(q_t || p) (log scale) for the Gaussian (with closed form), mixture and metastable targets, and "
           "KL(p || q_t) for the forward-KL flow (C6, C10). Right: -dKL/dt by finite differences against the "
           "relative Fisher information I(t) (C7).", "wasserstein_1d"),
    Figure("jko.png", "(f) Gaussian JKO trajectories",
           "Mean and standard deviation of iterated JKO steps for several alpha against the closed-form flow (C9).",
           "wasserstein_1d"),
    Figure("fp2d.png", "(g) 2-D Fokker–Planck with particles",
           "Left: the 2-D PDE solution at t = 2 (contours), the target mixture (dashed) and ULA particles; right: "
           "KL(q_t || p) of the 2-D solution (the card's full profile, 200 x 200; 60 x 60 at default; skipped at "
           "smoke).", "fp2d"),
)

ARTICLE = Article(
    id="9660", slug="gradient-flow-wasserstein", key="a9660",
    title="Gradient flow: exploring the path to the minimum",
    title_zh="梯度流:探索通向最小值之路",
    date="2023-06-16", url="https://kexue.fm/archives/9660",
    summary=(
        "Gradient descent with a vanishing step is the ODE $\\dot x = -\\nabla f(x)$, along which f decreases at rate "
        "$\\|\\nabla f\\|^2$. Writing a step as a penalised minimisation, $\\arg\\min_x \\|x-x_t\\|^2/2\\alpha + f(x)$, "
        "and changing the penalty gives other methods: a KL penalty gives the natural gradient, and for densities the "
        "squared 2-Wasserstein distance gives the Wasserstein gradient flow $\\partial_t q = \\nabla\\cdot(q\\nabla"
        "\\frac{\\delta\\mathcal F}{\\delta q})$ — for $\\mathcal F = \\mathrm{KL}(q\\|p)$ the Fokker–Planck equation "
        "of Langevin dynamics. We measure GD's $O(\\alpha)$ error, steepest descent per norm, the $O(\\alpha^2)$ "
        "agreement of proximal and KL steps, solve the 1-D Fokker–Planck equation with a Scharfetter–Gummel "
        "scheme (KL decay, dissipation identity, forward-KL flow), compare Langevin and probability-flow particles "
        "with the PDE, and iterate Gaussian JKO steps."),
    params_model=Params,
    stages=(
        Stage("euclidean", euclidean, outs={"metrics": f"{D}/euclidean.json", "arrays": f"{D}/euclidean.npz"},
              params=("horizon", "alphas_L", "mono_alphas_L", "mono_horizon", "sphere_points", "eps_values",
                      "prox_trials", "prox_monotone_alphas_L", "c5_mu", "c5_sigma", "c5_alpha_lo", "c5_alpha_hi",
                      "c5_alpha_n"), metrics="metrics", kind="eval", runtime_min=5),
        Stage("wasserstein_1d", wasserstein_1d, outs={"metrics": f"{D}/wflow.json", "arrays": f"{D}/wflow.npz"},
              params=("x_lo", "x_hi", "cells", "dt", "t_end", "meta_t_end", "fwd_t_end", "gauss_mu", "gauss_sd",
                      "gauss_m0", "gauss_sd0", "snapshot_times", "particle_times", "w1_time", "jko_alphas",
                      "jko_horizon"), metrics="metrics", kind="eval", runtime_min=10),
        Stage("particles", particles, deps={"pde": f"{D}/wflow.npz"},
              outs={"metrics": f"{D}/particles.json", "arrays": f"{D}/particles.npz"},
              params=("x_lo", "x_hi", "gauss_mu", "gauss_sd", "gauss_m0", "gauss_sd0", "snapshot_times",
                      "particle_times", "w1_time", "n_particles", "ula_h", "n_boot", "w1_boot_subsample", "n_null"),
              metrics="metrics", kind="eval", mem_mb=4000, runtime_min=10),
        Stage("fp2d", fp2d, outs={"metrics": f"{D}/fp2d.json", "arrays": f"{D}/fp2d.npz"},
              params=("dt", "fp2d_cells", "fp2d_lo", "fp2d_hi", "fp2d_t_end", "fp2d_particles", "fp2d_particle_time",
                      "fp2d_ula_h"), metrics="metrics", kind="eval", mem_mb=8000, runtime_min=30),
        Stage("figures", figures,
              deps={"euclid": f"{D}/euclidean.npz", "pde": f"{D}/wflow.npz", "particles": f"{D}/particles.npz",
                    "fp2d": f"{D}/fp2d.npz"},
              outs={"figures": f"{D}/figures/"},
              params=("snapshot_times", "particle_times", "gauss_mu", "gauss_sd", "gauss_m0", "gauss_sd0"),
              kind="figure", runtime_min=3),
    ),
    claims=CLAIMS,
    figures=FIGURES,
)
