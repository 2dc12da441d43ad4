"""Shared diffusion machinery (cards 9152, 9228, 9467, 10055, ...): one small file per concept.

* schedules — noise schedules in the kexue.fm convention (abar, bbar are STANDARD DEVIATIONS),
  conversions to the DDPM paper's variances, continuous VP/VE SDE coefficients, time grids;
* losses    — the eps-prediction loss (sum or mean reduction) and the x0 / eps / score conversions;
* samplers  — ancestral DDPM, DDIM(eta), probability-flow ODE (Euler, Heun, adaptive), reverse SDE;
* exact     — exact eps / score / posterior mean of point, Gaussian and Gaussian-mixture data.

Every sampler takes a denoiser `eps_model(x, t)`; exact models and trained nets plug in the same way.
Import the submodules directly (`from kexue.diffusion import samplers`); nothing heavy happens here.
"""
