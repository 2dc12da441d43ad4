"""The stage registry: one declaration module per article (plus the shared data stages).

Add an article by writing `stages/<key>_<slug>.py` with a module-level `ARTICLE` (its stage
functions in `stages/<key>_stages.py`) and listing it here. Everything else — Snakemake
rules, dvc.yaml, reports — follows from it.
"""

ARTICLE_MODULES = (
    "stages.data",
    "stages.metric_nets",
    "stages.a9931_local_global_cosine",
    "stages.a9775_min_abc",
    "stages.a9593_softmax_robustness_entropy",
    "stages.a9588_jl_entropy_invariant_attention",
    "stages.a10588_adam_hessian_approximation",
    "stages.a9098_exact_accuracy_training",
    "stages.a9595_sparsity_measures",
    "stages.a9660_gradient_flow_wasserstein",
    "stages.a10563_adam_epsilon_lr_scaling",
    "stages.a9467_wasserstein_score_matching",
    "stages.a9228_probability_flow_ode",
    "stages.a9152_ddpm_autoregressive_vae",
    "stages.a10055_upsample_guidance",
    "stages.a9969_idempotent_generative_network",
    "stages.a9687_self_consuming_mad",
    "stages.a9675_rope_beta_base_ntk",
    "stages.a9046_unargmaxable_tokens",
    "stages.a9607_quantization_scaling_law",
    "stages.a9698_tied_embedding_init",
    "stages.a10085_score_identity_distillation",
    "stages.a10007_fourier_basis_density",
)
