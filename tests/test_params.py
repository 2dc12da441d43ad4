"""Bad parameters are rejected before any work, naming the key, the value and what is allowed."""
import copy

import pytest

from kexue.errors import KexueError
from kexue.params import ParamView, load_raw, resolve_block, validate
from kexue.registry import load
from tests.conftest import ROOT


@pytest.fixture()
def raw():
    return load_raw(ROOT / "params.yaml")


def _err(raw):
    with pytest.raises(KexueError) as e:
        validate(raw, load().articles)
    return str(e.value)


def test_committed_params_are_valid(raw):
    assert validate(raw, load().articles).profile in ("smoke", "default", "full")


def test_unknown_profile(raw):
    raw["profile"] = "tiny"
    msg = _err(raw)
    assert "profile = 'tiny'" in msg and "smoke" in msg and "full" in msg


def test_unknown_device(raw):
    raw["device"] = "tpu"
    assert "device = 'tpu'" in _err(raw)


def test_wrong_type_and_range_name_key_value_allowed(raw):
    art = next(a for a in load().reported if a.params_model is not None)
    # find an integer parameter with a lower bound in the schema
    for name, field in art.params_model.model_fields.items():
        lower = [m for m in field.metadata if hasattr(m, "ge") or hasattr(m, "gt")]
        if field.annotation is int and lower:
            break
    else:
        pytest.skip("no bounded integer parameter")
    bad = copy.deepcopy(raw)
    bad[art.key][name] = -7
    msg = _err(bad)
    assert f"{art.key}.{name} = -7" in msg and "greater than" in msg
    bad[art.key][name] = "many"
    msg = _err(bad)
    assert f"{art.key}.{name} = 'many'" in msg and "integer" in msg


def test_overlay_must_cover_every_profile(raw):
    art = load().reported[0]
    key = next(iter(raw[art.key]))
    raw[art.key][key] = {"smoke": 1, "default": 2}
    assert f"{art.key}.{key}: profile overlay lacks full" in _err(raw)


def test_unknown_and_missing_keys(raw):
    art = load().reported[0]
    bad = copy.deepcopy(raw)
    bad[art.key]["no_such_param"] = 3
    assert f"{art.key}.no_such_param is not a known parameter" in _err(bad)
    bad = copy.deepcopy(raw)
    key = next(iter(bad[art.key]))
    del bad[art.key][key]
    assert f"{art.key}.{key} is missing" in _err(bad)
    bad = copy.deepcopy(raw)
    bad["a0000"] = {}
    assert "a0000 is not a known top-level key" in _err(bad)


def test_yaml_syntax_error_is_named(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("profile: [smoke\n")
    with pytest.raises(KexueError, match="not valid YAML"):
        load_raw(p)


def test_overlay_resolution():
    block = {"n": {"smoke": 1, "default": 2, "full": 3}, "lr": 0.1}
    assert resolve_block(block, "full") == {"n": 3, "lr": 0.1}


def test_undeclared_param_read_is_an_error():
    view = ParamView({"n": 1}, "a9999_train")
    assert view.n == 1
    with pytest.raises(KexueError, match="does not declare it"):
        view.lr


def test_unknown_article_and_stage():
    reg = load()
    with pytest.raises(KexueError, match="unknown article '1234'; known articles: "):
        reg.article("1234")
    with pytest.raises(KexueError, match="has no stage 'nope'"):
        reg.node(reg.reported[0].id, "nope")


def test_cuda_requested_without_gpu_fails_early():
    import torch

    from kexue.runtime import select_device

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(KexueError, match="device = 'cuda' but no CUDA device"):
        select_device("cuda")
    assert select_device("auto") == "cpu"
