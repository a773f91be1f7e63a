"""Objectives: arithmetic, per-element units and clear errors."""

import pytest
import torch

from genlens.core.errors import ParameterError
from genlens.core.featviz import ObjectiveContext
from genlens.core.featviz import objectives as obj


def _context(batch: int = 3) -> ObjectiveContext:
    torch.manual_seed(0)
    return ObjectiveContext(
        images=torch.rand(batch, 3, 8, 8),
        logits=torch.randn(batch, 10),
        outputs={"feat": torch.randn(batch, 6, 5, 5)},
        inputs={"feat": torch.randn(batch, 4, 5, 5)},
    )


def test_per_element_units_pick_one_unit_each():
    ctx = _context()
    assert torch.equal(obj.class_logit([2, 5, 7])(ctx), ctx.logits[[0, 1, 2], [2, 5, 7]])
    assert torch.equal(obj.class_logit(4)(ctx), ctx.logits[:, 4])
    expected = ctx.outputs["feat"][[0, 1, 2], [0, 3, 5]].flatten(1).mean(1)
    assert torch.allclose(obj.channel("feat", [0, 3, 5])(ctx), expected)
    centre = ctx.outputs["feat"][[0, 1, 2], [1, 1, 2], 2, 2]
    assert torch.equal(obj.neuron("feat", [1, 1, 2])(ctx), centre)
    corner = ctx.outputs["feat"][:, 3, 4, 0]
    assert torch.equal(obj.neuron("feat", 3, x=0, y=4)(ctx), corner)
    log_prob = ctx.logits.log_softmax(1)[[0, 1, 2], [1, 1, 1]]
    assert torch.allclose(obj.class_log_prob(1)(ctx), log_prob)


def test_arithmetic_combines_scores_and_layers():
    ctx = _context()
    combined = 2 * obj.class_logit([0, 1, 2]) - obj.channel("feat", 1) / 4 + 1.5
    expected = (
        2 * ctx.logits[[0, 1, 2], [0, 1, 2]] - ctx.outputs["feat"][:, 1].mean((1, 2)) / 4 + 1.5
    )
    assert torch.allclose(combined(ctx), expected)
    assert combined.output_layers == ("feat",)
    assert combined.batch_size == 3
    assert torch.allclose((-obj.class_logit(3))(ctx), -ctx.logits[:, 3])
    total = sum([obj.class_logit(1), obj.class_logit(2)])
    assert torch.allclose(total(ctx), ctx.logits[:, 1] + ctx.logits[:, 2])


def test_direction_diversity_and_penalties():
    ctx = _context()
    vector = torch.tensor([1.0, 0, 0, 0, 0, 0])
    assert torch.allclose(
        obj.direction("feat", vector * 3)(ctx), ctx.outputs["feat"][:, 0].mean((1, 2))
    )
    diversity = obj.diversity("feat")(ctx)
    assert diversity.shape == (3,) and bool((diversity.abs() <= 1 + 1e-5).all())
    same = ObjectiveContext(
        ctx.images, ctx.logits, {"feat": ctx.outputs["feat"][:1].expand(3, -1, -1, -1)}
    )
    assert torch.allclose(obj.diversity("feat")(same), torch.full((3,), -1.0), atol=1e-5)
    flat = ObjectiveContext(torch.full((3, 3, 8, 8), 0.5), ctx.logits)
    for penalty in (obj.l1(), obj.l2(), obj.total_variation()):
        assert torch.allclose(penalty(flat), torch.zeros(3), atol=1e-5)
    assert torch.allclose(obj.total_variation()(ctx), obj.total_variation()(ctx).abs())
    assert torch.allclose(obj.layer_input_l1("feat")(ctx), ctx.inputs["feat"].abs().mean((1, 2, 3)))


def test_bad_parameters_raise_clear_errors():
    ctx = _context()
    with pytest.raises(ParameterError, match="int or a non-empty list"):
        obj.class_logit([])
    with pytest.raises(ParameterError, match=">= 0"):
        obj.channel("feat", -1)
    with pytest.raises(ParameterError, match="out of range"):
        obj.class_logit(10)(ctx)
    with pytest.raises(ParameterError, match="2 units given for a batch of 3"):
        obj.class_logit([1, 2])(ctx)
    with pytest.raises(ParameterError, match="different batch sizes"):
        obj.class_logit([1, 2]) + obj.class_logit([1, 2, 3])
    with pytest.raises(ParameterError, match="outside"):
        obj.neuron("feat", 0, x=9)(ctx)
    with pytest.raises(ParameterError, match="channels"):
        obj.direction("feat", torch.ones(4))(ctx)
