"""Checkpoints: exact round trip, no pickle, atomic writes, validation with clear errors."""

import json

import numpy as np
import pytest

import cnnlab
from cnnlab import nn
from cnnlab.train import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from cnnlab.train.checkpoint import checkpoint_paths, decode_tree, encode_tree


def small_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))


def arrays(model):
    return {k: np.array(v.data) for k, v in model.state_dict().items()}


def test_round_trip_is_exact(tmp_path):
    model, other = small_model(), small_model()
    save_checkpoint(
        tmp_path / "ck", model, state={"epoch": 2, "history": [{"loss": 0.5}], "nested": {"a": (1, 2)}}
    )
    state = load_checkpoint(tmp_path / "ck", other)
    for k, v in arrays(model).items():
        assert np.array_equal(v, arrays(other)[k]) and v.dtype == arrays(other)[k].dtype
    assert state == {"epoch": 2, "history": [{"loss": 0.5}], "nested": {"a": (1, 2)}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]  # no temp files left


def test_optimizer_state_round_trip(tmp_path):
    model = small_model()
    optimizer = cnnlab.optim.Adam(model.parameters(), lr=1e-2)
    cnnlab.nn.functional.cross_entropy(
        model(cnnlab.randn(4, 1, 6, 6)), cnnlab.tensor([0, 1, 2, 0])
    ).backward()
    optimizer.step()
    save_checkpoint(tmp_path / "ck", model, optimizer)
    saved, _ = read_checkpoint(tmp_path / "ck")
    assert any(k.startswith("optim.0.") for k in saved) and any(k.startswith("model.") for k in saved)
    model2 = small_model()
    optimizer2 = cnnlab.optim.Adam(model2.parameters(), lr=1.0)
    load_checkpoint(tmp_path / "ck", model2, optimizer2)
    assert optimizer2.param_groups[0]["lr"] == 1e-2
    assert isinstance(optimizer2.param_groups[0]["betas"], tuple)
    a, b = optimizer.state_dict()["state"], optimizer2.state_dict()["state"]
    for i in a:
        for key in a[i]:
            assert np.array_equal(
                np.asarray(getattr(a[i][key], "data", a[i][key])),
                np.asarray(getattr(b[i][key], "data", b[i][key])),
            )


def test_encode_tree_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError, match=r"x\.f: cannot store a value of type function"):
        encode_tree({"f": lambda: 0}, "x", {})
    stored = {}
    tree = encode_tree({"x": {1: np.float32(2.5)}, "t": cnnlab.ones(2)}, "s", stored)
    back = decode_tree(json.loads(json.dumps(tree)), stored)
    assert type(back["x"][1]) is np.float32 and back["x"][1] == 2.5 and isinstance(back["t"], cnnlab.Tensor)
    with pytest.raises(TypeError, match="keys must be all strings or all integers"):
        encode_tree({1: 0, "a": 1}, "s", {})


def test_validation_errors(tmp_path):
    save_checkpoint(tmp_path / "ck", small_model())
    wrong = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, 4))
    with pytest.raises(
        CheckpointError, match=r"3\.weight: expected shape \(4, 32\), the checkpoint has \(3, 32\)"
    ):
        load_checkpoint(tmp_path / "ck", wrong)
    with pytest.raises(CheckpointError, match="missing keys"):
        load_checkpoint(tmp_path / "ck", nn.Sequential(small_model(), nn.ReLU()))
    with pytest.raises(CheckpointError, match="expected dtype float64"):
        load_checkpoint(tmp_path / "ck", small_model().double())
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nothing", small_model())


def test_mismatched_pair_and_foreign_files_are_refused(tmp_path):
    save_checkpoint(tmp_path / "a", small_model())
    save_checkpoint(tmp_path / "b", small_model())
    (tmp_path / "a.safetensors").write_bytes((tmp_path / "b.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="does not match a.json"):
        load_checkpoint(tmp_path / "a", small_model())
    (tmp_path / "b.json").write_text('{"hello": 1}')
    with pytest.raises(CheckpointError, match="not a cnnlab checkpoint"):
        load_checkpoint(tmp_path / "b", small_model())


def test_refuses_to_save_non_finite_weights(tmp_path):
    model = small_model()
    model[3].weight.data[0, 0] = np.nan
    with pytest.raises(CheckpointError, match=r"'3\.weight' holds non-finite values"):
        save_checkpoint(tmp_path / "ck", model)
    assert not any(tmp_path.iterdir())


def test_paths_accept_either_suffix():
    assert (
        checkpoint_paths("x/last.safetensors")
        == checkpoint_paths("x/last")
        == checkpoint_paths("x/last.json")
    )
