"""Diffusion denoisers (kexue.nn.time_embedding, mlp_denoiser, unet): shapes, time embeddings,
the BatchNorm/GroupNorm switch (card 9152 C8 mechanism), checkpoint refusal, trainability, determinism."""
import io
import math

import pytest
import torch

from kexue.errors import KexueError
from kexue.nn.mlp_denoiser import (CheckpointMismatchError, MLPDenoiser, build_denoiser, check_state_dict,
                                   denoiser_payload, load_denoiser, n_params)
from kexue.nn.time_embedding import LearnedTimeTable, TimeEmbedding, sinusoidal_features
from kexue.nn.unet import UNet

SMALL_UNET = dict(widths=(8, 16, 32), t_dim=16, groups=4)


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("shape", [(5, 64), (5, 1, 8, 8), (5, 196), (5, 1, 14, 14), (5, 1, 28, 28)])
def test_mlp_output_has_the_input_shape(shape):
    torch.manual_seed(0)
    dim = math.prod(shape[1:])
    m = MLPDenoiser(dim=dim, hidden=64, blocks=2, t_dim=32, groups=8)
    assert m(torch.randn(shape), torch.arange(5)).shape == shape


@pytest.mark.parametrize("hw", [8, 14, 16, 28, 32])
@pytest.mark.parametrize("levels", [2, 3])
@pytest.mark.parametrize("skip", ["add", "concat"])
def test_unet_output_shape_for_each_image_size(hw, levels, skip):
    torch.manual_seed(0)
    m = UNet(widths=(8, 16, 32)[:levels], t_dim=16, groups=4, skip=skip)
    x = torch.randn(3, 1, hw, hw)
    assert m(x, torch.tensor([0, 10, 999])).shape == x.shape
    assert m(torch.randn(2, 1, hw, hw + 2), 5).shape == (2, 1, hw, hw + 2)  # non-square too


def test_unet_padding_rule_for_odd_sizes():
    m2, m3 = UNet(widths=(8, 16), t_dim=16, groups=4), UNet(**SMALL_UNET)
    assert m2.padding(14, 14) == (0, 0, 0, 0)       # 14 -> 7: one halving, exact
    assert m3.padding(14, 14) == (1, 1, 1, 1)       # 14 -> 16 -> 8 -> 4
    assert m3.padding(28, 28) == (0, 0, 0, 0)       # 28 -> 14 -> 7
    assert m3.padding(13, 8) == (0, 0, 1, 2)        # (left, right, top, bottom): extra pixel bottom/right
    assert UNet(widths=(8, 16, 32, 64), t_dim=16, groups=4).padding(28, 28) == (2, 2, 2, 2)  # -> 32


def test_unet_is_resolution_agnostic_same_weights_any_size():
    """Card 10055 runs a 14x14-trained model at 28x28; the MLP cannot (it needs its dim)."""
    torch.manual_seed(0)
    m = UNet(**SMALL_UNET)
    assert m(torch.randn(2, 1, 14, 14), 3.5).shape == (2, 1, 14, 14)
    assert m(torch.randn(2, 1, 28, 28), 3.5).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="dim=64"):
        MLPDenoiser(dim=64, hidden=64, groups=8)(torch.randn(2, 1, 14, 14), 3)


# ---------------------------------------------------------------- time embeddings

def test_sinusoidal_norm_and_shift_invariance_are_exact():
    t = torch.tensor([0.0, 1.0, 17.0, 999.0, 2.5], dtype=torch.float64)
    e = sinusoidal_features(t, 128)
    assert torch.allclose((e**2).sum(1), torch.full((5,), 64.0, dtype=torch.float64), atol=1e-12, rtol=0)
    # <e(t), e(s)> = sum_k cos((t - s) f_k): depends only on t - s
    f = torch.exp(-math.log(10000.0) * torch.arange(64, dtype=torch.float64) / 64)
    for a, b in [(3.0, 10.0), (100.0, 107.0), (500.25, 507.25)]:
        ea, eb = sinusoidal_features(torch.tensor([a, b], dtype=torch.float64), 128)
        assert abs(float(ea @ eb) - float(torch.cos((a - b) * f).sum())) < 1e-9
    assert torch.equal(e[0], torch.cat([torch.zeros(64), torch.ones(64)]).double())  # t = 0


def test_distinct_integer_t_give_distinct_embeddings():
    t = torch.arange(1000, dtype=torch.float64)
    d = torch.cdist(sinusoidal_features(t, 128), sinusoidal_features(t, 128))
    d.fill_diagonal_(float("inf"))
    assert float(d.min()) > 0.5          # neighbours t, t+1 differ by ~|f|, never collide
    torch.manual_seed(0)
    emb = TimeEmbedding(64, "learned", num_steps=1000)
    with torch.no_grad():
        out = emb(torch.arange(1000), batch=1000)
    dd = torch.cdist(out, out)
    dd.fill_diagonal_(float("inf"))
    assert float(dd.min()) > 0


def test_continuous_t_works_for_both_kinds():
    torch.manual_seed(0)
    table = LearnedTimeTable(num_steps=10, dim=6)
    w = table.table.weight
    got = table(torch.tensor([2.5, 3.0, 0.0, 10.0, 9.75]))
    want = torch.stack([0.5 * (w[2] + w[3]), w[3], w[0], w[10], 0.25 * w[9] + 0.75 * w[10]])
    assert torch.allclose(got, want, atol=1e-7)
    with pytest.raises(ValueError, match="num_steps"):
        table(torch.tensor([10.5]))
    with pytest.raises(ValueError, match="num_steps"):
        table(torch.tensor([-0.1]))
    # t in [0, 1] with t_scale = 1000 equals integer steps with t_scale = 1 (same weights)
    for kind in ("sinusoidal", "learned"):
        a = TimeEmbedding(32, kind, num_steps=1000, t_scale=1000.0)
        b = TimeEmbedding(32, kind, num_steps=1000)
        b.load_state_dict(a.state_dict())
        assert torch.allclose(a(torch.tensor([0.25, 0.0005]), batch=2), b(torch.tensor([250, 0.5]), batch=2),
                              atol=1e-5)
    m = UNet(**SMALL_UNET)
    y = m(torch.randn(2, 1, 8, 8), torch.tensor([12.3, 450.9]))
    assert torch.isfinite(y).all()


def test_scalar_t_is_broadcast_and_bad_t_is_named():
    torch.manual_seed(0)
    m = MLPDenoiser(hidden=64, groups=8, t_dim=32)
    x = torch.randn(4, 64)
    assert torch.equal(m(x, 7), m(x, torch.full((4,), 7)))
    assert torch.equal(m(x, torch.tensor(7.0)), m(x, torch.full((4,), 7.0)))
    with pytest.raises(ValueError, match="batch = 4"):
        m(x, torch.arange(3))


def test_float64_model_gets_float64_time_features():
    torch.manual_seed(0)
    m = MLPDenoiser(hidden=64, groups=8, t_dim=32).double()
    y = m(torch.randn(3, 64, dtype=torch.float64), torch.tensor([1, 2, 3]))
    assert y.dtype == torch.float64
    assert m.time.features(torch.tensor([999.0], dtype=torch.float64)).dtype == torch.float64


# ---------------------------------------------------------------- GroupNorm / BatchNorm

def _models(norm):
    torch.manual_seed(0)
    return [MLPDenoiser(hidden=64, blocks=2, t_dim=32, groups=8, norm=norm),
            UNet(norm=norm, **SMALL_UNET)]


def test_norm_switch_builds_the_right_layers():
    for norm, cls in (("group", torch.nn.GroupNorm), ("batch", (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)),
                      ("layer", torch.nn.GroupNorm)):
        for m in _models(norm):
            norms = [mod for name, mod in m.named_modules() if name.split(".")[-1].startswith("norm")]
            assert norms and all(isinstance(n, cls) for n in norms)
    assert _models("layer")[0].blocks[0].norm1.num_groups == 1
    with pytest.raises(ValueError, match="norm 'batchnorm'"):
        MLPDenoiser(norm="batchnorm")
    with pytest.raises(ValueError, match="groups = 32"):
        UNet(widths=(16, 32), groups=32)


@pytest.mark.parametrize("which", [0, 1])
def test_batchnorm_in_train_mode_cannot_see_a_shared_t(which):
    """Card 9152 C8: t enters as a per-channel bias; train-mode BN subtracts it when the whole
    batch shares t, so f(x, 5) == f(x, 900). GroupNorm and eval-mode BN do see t."""
    x = torch.randn(16, 1, 8, 8)
    x = x.flatten(1) if which == 0 else x
    bn = _models("batch")[which].train()
    assert torch.allclose(bn(x, 5), bn(x, 900), atol=1e-5)
    bn.eval()
    assert (bn(x, 5) - bn(x, 900)).abs().max() > 1e-3
    gn = _models("group")[which].train()
    assert (gn(x, 5) - gn(x, 900)).abs().max() > 1e-3
    # GroupNorm normalises each sample alone: a sample's output does not depend on its batch mates
    assert torch.allclose(gn(x[:1], 5), gn(x, 5)[:1], atol=1e-5)
    bn.train()
    assert not torch.allclose(bn(x[:4], 5), bn(x, 5)[:4], atol=1e-3)


# ---------------------------------------------------------------- checkpoints

def _roundtrip(payload):
    buf = io.BytesIO()
    torch.save(payload, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_checkpoint_roundtrip_rebuilds_the_same_function():
    for m in _models("group"):
        payload = _roundtrip(denoiser_payload(m))
        m2 = load_denoiser(payload)
        assert type(m2) is type(m) and m2.config == m.config and not m2.training
        x = torch.randn(2, 64) if isinstance(m, MLPDenoiser) else torch.randn(2, 1, 14, 14)
        assert torch.equal(m2(x, 3), m.eval()(x, 3))


def test_checkpoint_from_another_architecture_is_refused_clearly():
    mlp, unet = _models("group")
    with pytest.raises(CheckpointMismatchError, match=r"checkpoint is a 'unet'.*another architecture.*load_denoiser"):
        check_state_dict(mlp, denoiser_payload(unet))
    # a bare state_dict (no config): the keys are named
    with pytest.raises(CheckpointMismatchError, match=r"missing keys: .*blocks\.0.*unexpected keys: .*down\.0"):
        check_state_dict(mlp, unet.state_dict())
    # same arch, other norm: BatchNorm's running statistics are named
    bn = _models("batch")[0]
    with pytest.raises(CheckpointMismatchError, match=r"norm: checkpoint 'batch' vs model 'group'.*running_mean"):
        check_state_dict(mlp, denoiser_payload(bn))
    # other size: the shapes are named
    wide = MLPDenoiser(hidden=128, blocks=2, t_dim=32, groups=8)
    with pytest.raises(CheckpointMismatchError,
                       match=r"hidden: checkpoint 128 vs model 64.*inp\.weight \(128, 64\) vs \(64, 64\)"):
        check_state_dict(mlp, denoiser_payload(wide))
    # catchable both as the CLI's KexueError and as a ValueError
    assert issubclass(CheckpointMismatchError, KexueError) and issubclass(CheckpointMismatchError, ValueError)
    with pytest.raises(CheckpointMismatchError, match="arch = 'resnet'"):
        build_denoiser({"arch": "resnet"})
    with pytest.raises(CheckpointMismatchError, match="unexpected keyword.*width.*delete it"):
        build_denoiser({**mlp.config, "width": 3})
    with pytest.raises(CheckpointMismatchError, match="'config' and 'state_dict'"):
        load_denoiser(unet.state_dict())
    check_state_dict(mlp, denoiser_payload(mlp))  # its own checkpoint passes


# ---------------------------------------------------------------- training and determinism

def _eps_loss(model, x0, eps, t, T=100):
    """eps-prediction MSE on the article-9152 schedule alpha_t = sqrt(1 - 0.02 t / T) (std convention)."""
    alpha2 = 1 - 0.02 * torch.arange(1, T + 1, dtype=torch.float64) / T
    abar = torch.sqrt(torch.cumprod(alpha2, 0)).float()        # bar-alpha_t, a std
    a = abar[t].view(-1, *[1] * (x0.dim() - 1))
    xt = a * x0 + torch.sqrt(1 - a**2) * eps
    return ((model(xt, t) - eps) ** 2).mean()


@pytest.mark.parametrize("which", [0, 1])
def test_a_few_adam_steps_reduce_the_loss_on_a_tiny_batch(which):
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(16, 1, 8, 8, generator=g) * 2 - 1
    x0 = x0.flatten(1) if which == 0 else x0
    eps = torch.randn(x0.shape, generator=g)
    t = torch.randint(0, 100, (16,), generator=g)
    model = _models("group")[which]
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    first = float(_eps_loss(model, x0, eps, t).detach())
    for _ in range(40):
        opt.zero_grad()
        loss = _eps_loss(model, x0, eps, t)
        loss.backward()
        opt.step()
    assert float(_eps_loss(model, x0, eps, t).detach()) < 0.6 * first


def test_same_seed_same_model_and_output():
    x = torch.randn(3, 1, 14, 14)
    outs = []
    for seed in (7, 7, 8):
        torch.manual_seed(seed)
        m = UNet(**SMALL_UNET)
        outs.append(m(x, torch.tensor([1, 50, 999])))
    assert torch.equal(outs[0], outs[1]) and not torch.allclose(outs[0], outs[2])
    torch.manual_seed(3)
    a = MLPDenoiser(dim=196, hidden=64, groups=8, t_embed="learned")
    torch.manual_seed(3)
    b = MLPDenoiser(dim=196, hidden=64, groups=8, t_embed="learned")
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert n_params(a) == n_params(b) > 0


def test_default_sizes_match_the_cards():
    # card 9152 default MLP: 64 -> 3 residual blocks of width 256, t-embedding 128 (~0.5M parameters)
    assert 4e5 < n_params(MLPDenoiser()) < 6e5
    with pytest.raises(ValueError, match="t_embed|time embedding kind"):
        MLPDenoiser(t_embed="fourier")
    with pytest.raises(ValueError, match="skip 'sum'"):
        UNet(skip="sum")
