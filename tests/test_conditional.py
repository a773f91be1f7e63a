"""Feature-conditioned StarGAN: injection, CCC loss, feature editor, training and resume."""

import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from genlens.core.errors import ParameterError
from genlens.core.generative.conditional.editor import (
    component_scores,
    fit_editor,
    interpolation_path,
    quantile_score,
    traversal_targets,
)
from genlens.core.generative.conditional.losses import (
    ccc_loss,
    ccc_per_dim,
    gradient_penalty,
    total_variation,
)
from genlens.core.generative.conditional.nets import (
    ConditionalGenerator,
    ConditionalModel,
    FeatureCritic,
    flat_condition_map,
    inject,
)
from genlens.core.generative.loading import load_trained
from genlens.core.generative.worlds import WORLDS, World, get_world
from genlens.core.training import TrainConfig, Trainer, task_factory


@pytest.mark.parametrize("injection", ["tiled", "flat", "film"])
@pytest.mark.parametrize(
    ("c_dim", "size", "channels"),
    [(2, 16, 1), (10, 32, 3), (96, 32, 1), (128, 64, 3), (64, 112, 3)],
)
def test_injection_and_network_shapes(injection, c_dim, size, channels):
    images, condition = torch.rand(2, channels, size, size), torch.randn(2, c_dim)
    injected = inject(images, condition, injection)
    extra = {"tiled": c_dim, "flat": 1, "film": 0}[injection]
    assert injected.shape == (2, channels + extra, size, size)
    assert torch.equal(injected[:, :channels], images)
    generator = ConditionalGenerator(c_dim, channels, size, 4, 1, injection)
    assert generator.main[0].in_channels == channels + extra
    with torch.no_grad():
        output = generator(images, condition)
        repeat = int(math.log2(size)) - 2
        critic = FeatureCritic(c_dim, channels, size, 4, repeat, num_outputs=7)
        score, features, outputs = critic(images)
    assert output.shape == images.shape and 0 <= float(output.min()) <= float(output.max()) <= 1
    patch = size // 2**repeat
    assert score.shape == (2, 1, patch, patch) and features.shape == (2, c_dim)
    assert outputs.shape == (2, 7)


def test_tiled_condition_is_constant_per_channel():
    condition = torch.randn(3, 5)
    extra = inject(torch.zeros(3, 1, 8, 8), condition, "tiled")[:, 1:]
    assert torch.equal(extra, condition[:, :, None, None].expand(-1, -1, 8, 8))


def test_flat_map_generalises_the_original_8x8_layout():
    condition = torch.randn(2, 64)
    expected = np.tile(condition.numpy().reshape(2, 1, 8, 8), (1, 1, 14, 14))
    assert np.array_equal(flat_condition_map(condition, 112, 112).numpy(), expected)
    odd = torch.arange(10.0)[None]  # side 4: 10 values + 6 zeros, tiled and cropped to 10 x 9
    layout = flat_condition_map(odd, 10, 9)[0, 0]
    patch = torch.cat([odd[0], torch.zeros(6)]).view(4, 4)
    for row in range(10):
        for column in range(9):
            assert layout[row, column] == patch[row % 4, column % 4]


def test_film_starts_unconditioned_and_then_follows_the_condition():
    torch.manual_seed(0)
    generator = ConditionalGenerator(6, 3, 16, 4, 1, "film", output="residual").eval()
    plain = ConditionalGenerator(6, 3, 16, 4, 1, "flat", output="residual")
    assert "main.4.modulation.weight" in generator.state_dict()
    assert not any("modulation" in key for key in plain.state_dict())
    images = torch.rand(2, 3, 16, 16)
    first, second = torch.randn(2, 6), torch.randn(2, 6)
    with torch.no_grad():
        assert torch.equal(generator(images, first), generator(images, second))
        for parameter in generator.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
        assert not torch.allclose(generator(images, first), generator(images, second))
        norm = generator.main[4]
        x = torch.randn(2, 8, 8, 8)
        scale, shift = norm.modulation(first).view(2, 2, 8, 1, 1).unbind(1)
        expected = norm.norm(x) * (1 + scale) + shift
        torch.testing.assert_close(norm(x, first), expected)


def test_resize_upsampling_keeps_shapes_without_transposed_convs():
    generator = ConditionalGenerator(5, 3, 32, 4, 1, "film", 3, "residual", "resize")
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in generator.modules())
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(generator(images, torch.randn(2, 5)), images)  # residual starts at x


def test_difference_condition_codes_the_change_from_the_own_features():
    torch.manual_seed(0)
    model = ConditionalModel(4, 3, 16, 4, 1, "film", components=2, condition="difference")
    model.feature_mean.fill_(0.5)
    model.feature_std.fill_(2.0)
    for parameter in model.generator.parameters():
        parameter.data.add_(0.1 * torch.randn_like(parameter))
    images, own, wanted = torch.rand(2, 3, 16, 16), torch.randn(2, 4), torch.randn(2, 4)
    with torch.no_grad():
        expected = model.generator(images, (wanted - own) / 2.0)
        torch.testing.assert_close(model(images, wanted, own), expected)
        torch.testing.assert_close(model(images, own, own), model.generator(images, 0 * own))
        absolute = ConditionalModel(4, 3, 16, 4, 1, "film", components=2)
        absolute.load_state_dict(model.state_dict())
        torch.testing.assert_close(
            absolute(images, wanted, own), model.generator(images, absolute.standardise(wanted))
        )
    with pytest.raises(ValueError, match="own features"):
        model(images, wanted)


def test_injection_is_a_real_enum():
    with pytest.raises(ValueError):
        ConditionalGenerator(4, injection="False")


def _numpy_ccc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    values = []
    for a, b in zip(x.T, y.T, strict=True):
        covariance = np.cov(a, b, bias=True)
        values.append(
            2
            * covariance[0, 1]
            / (covariance[0, 0] + covariance[1, 1] + (a.mean() - b.mean()) ** 2)
        )
    return np.array(values)


def test_ccc_is_one_for_identical_inputs_and_matches_numpy():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 64, generator=generator, dtype=torch.float64)
    assert float(ccc_loss(x, x.clone())) == pytest.approx(0.0, abs=1e-7)
    y = 0.5 * x + torch.randn(16, 64, generator=generator, dtype=torch.float64) + 0.3
    reference = _numpy_ccc(x.numpy(), y.numpy())
    assert np.allclose(ccc_per_dim(x, y).numpy(), reference, atol=1e-6)
    assert float(ccc_loss(x, y)) == pytest.approx(float(np.mean(1 - reference)), abs=1e-6)
    centred = x - x.mean(0)
    assert float(ccc_loss(centred, -centred)) == pytest.approx(2.0, abs=1e-6)


def test_gradient_penalty_of_a_linear_critic():
    weights = torch.randn(1, 2, 4, 4)
    critic = lambda x: (x * weights).flatten(1).sum(1)  # noqa: E731  gradient = weights
    real, fake = torch.rand(3, 2, 4, 4), torch.rand(3, 2, 4, 4)
    penalty = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(0))
    assert float(penalty) == pytest.approx((float(weights.norm()) - 1) ** 2, rel=1e-5)


def _fitted_model(components: int = 3) -> tuple[ConditionalModel, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    mixing = torch.randn(12, 12, generator=generator)
    features = torch.randn(500, 12, generator=generator) @ mixing + 3.0
    model = ConditionalModel(12, 1, 16, 4, 1, "flat", components=components)
    fit_editor(model, features)
    return model, features


def test_editor_fits_standardised_pca():
    model, features = _fitted_model()
    components = model.components.double()
    assert torch.allclose(components @ components.T, torch.eye(3, dtype=torch.float64), atol=1e-5)
    scores = component_scores(model, features)
    assert torch.allclose(scores.mean(0), torch.zeros(3), atol=1e-4)
    assert torch.allclose(scores.var(0, unbiased=False), model.explained, rtol=1e-3)
    assert bool((model.explained[:-1] >= model.explained[1:]).all())
    median = quantile_score(model, 0, 50)
    assert float(median) == pytest.approx(float(scores[:, 0].median()), abs=0.05)


def test_traversals_are_independent_one_at_a_time():
    model, features = _fitted_model()
    images = features[:4]
    targets, vectors = traversal_targets(model, images, [1, 2], [10, 50, 90])
    assert [t.label for t in targets][-1] == "reconstruction" and len(vectors) == 7
    own = component_scores(model, images)
    for target, vector in zip(targets[:-1], vectors[:-1], strict=True):
        scores = component_scores(model, vector)
        edited = target.component - 1
        expected = quantile_score(model, edited, target.quantile)
        assert torch.allclose(scores[:, edited], expected.expand(4), atol=1e-4)
        others = [k for k in range(3) if k != edited]
        assert torch.allclose(scores[:, others], own[:, others], atol=1e-4)
        residual = model.standardise(vector) - model.standardise(images)
        direction = model.components[edited]
        assert torch.allclose(
            residual - (residual @ direction)[:, None] * direction,
            torch.zeros_like(residual),
            atol=1e-4,
        )
    assert torch.equal(vectors[-1], images)
    with pytest.raises(ParameterError):
        traversal_targets(model, images, [4], [50])


def test_interpolation_path_ends_at_both_vectors():
    start, end = torch.zeros(2, 3), torch.ones(2, 3)
    path = interpolation_path(start, end, 5)
    assert path.shape == (5, 2, 3) and torch.equal(path[0], start) and torch.equal(path[-1], end)
    assert torch.allclose(path[2], torch.full((2, 3), 0.5))


@pytest.fixture
def tiny_world(monkeypatch):
    """64 Fashion-MNIST test images (32x32) as every split of a world called ``tiny``."""
    images, labels = get_world("fmnist").split("test")
    world = World(
        "tiny",
        "tiny",
        32,
        1,
        WORLDS["fmnist"].labels,
        0.286,
        0.353,
        lambda split: (images[:64], labels[:64]),
    )
    monkeypatch.setitem(WORLDS, "tiny", world)
    return world


def _config(out, steps: int, **options) -> TrainConfig:
    settings = {
        "conv_dim": 8,
        "repeat_num": 1,
        "injection": "flat",
        "d_conv_dim": 8,
        "n_critic": 2,
        "lambda_clf": 1.0,
        "lambda_cls": 10.0,
        **options,
    }
    return TrainConfig(
        "conditional",
        "tiny",
        out,
        steps=steps,
        batch_size=16,
        lr=3e-3,
        classifier="fmnist-cnn",
        options=settings,
        sample_every=0,
        checkpoint_every=1000,
        eval_size=32,
        threads=1,
    )


def test_training_steps_decrease_the_feature_regression_loss(tiny_world, tmp_path):
    trainer = Trainer(_config(tmp_path, 25), task_factory("conditional"))
    task = trainer.task
    images = tiny_world.split("train")[0][:32].float() / 255
    target = task.model.standardise(task.train_arrays[1][:32])

    def regression_loss() -> float:
        with torch.no_grad():
            return float(torch.nn.functional.mse_loss(task.critic(images)[1], target))

    before = regression_loss()
    trainer.fit(until=25)
    assert regression_loss() < 0.7 * before


def test_resume_continues_identically(tiny_world, tmp_path):
    variant = {"injection": "tiled", "distance": "ccc", "predict_outputs": True}
    Trainer(_config(tmp_path / "straight", 6, **variant), task_factory("conditional")).fit()
    Trainer(_config(tmp_path / "resumed", 6, **variant), task_factory("conditional")).fit(until=3)
    resumed_run = Trainer(_config(tmp_path / "resumed", 6, **variant), task_factory("conditional"))
    result = resumed_run.fit(resume=True)
    assert result.finished and result.metrics["test_images"] == 32
    assert resumed_run.task.critic.outputs is not None
    straight = load_file(str(tmp_path / "straight" / "checkpoint" / "state.safetensors"))
    resumed = load_file(str(tmp_path / "resumed" / "checkpoint" / "state.safetensors"))
    assert straight.keys() == resumed.keys()
    for key, value in straight.items():
        assert torch.equal(value, resumed[key]), key


def test_options_need_real_booleans(tiny_world, tmp_path):
    with pytest.raises(ParameterError, match="predict_outputs"):
        task_factory("conditional")(
            _config(tmp_path, 2, predict_outputs="False"), torch.device("cpu")
        )


def test_init_starts_from_a_trained_generator_where_shapes_agree(tiny_world, tmp_path):
    film = {"injection": "film", "output": "residual"}
    scores = tmp_path / "scores"
    Trainer(_config(scores, 2, layer="head", **film), task_factory("conditional")).fit()
    source = load_trained(scores)[0].generator.state_dict()
    cpu = torch.device("cpu")
    task = task_factory("conditional")(_config(tmp_path / "pool", 2, init=str(scores), **film), cpu)
    own = task.model.generator.state_dict()
    assert task.model.c_dim != 10  # pool features, not the 10 scores of the source
    differing = {name for name in own if own[name].shape != source[name].shape}
    assert differing and all("modulation" in name for name in differing)
    for name, weight in own.items():
        if name in differing:
            assert not weight.any(), name  # fresh FiLM layers start at zero: no change
        else:
            assert torch.equal(weight, source[name]), name
    with pytest.raises(ParameterError, match="init"):
        task_factory("conditional")(
            _config(tmp_path / "wider", 2, init=str(scores), conv_dim=16, **film), cpu
        )


def test_residual_output_adds_a_bounded_change_to_the_input():
    torch.manual_seed(0)
    images, condition = torch.rand(3, 3, 16, 16), torch.randn(3, 5)
    residual = ConditionalGenerator(5, 3, 16, 4, 1, "flat", output="residual")
    with torch.no_grad():
        assert torch.equal(residual(images, condition), images)  # zero-initialised last conv
        direct = ConditionalGenerator(5, 3, 16, 4, 1, "flat")
        residual.load_state_dict(direct.state_dict())
        # direct = (tanh(r) + 1) / 2, so residual = clamp(x + tanh(r) / 2) = clamp(x + direct - 0.5)
        expected = (images + direct(images, condition) - 0.5).clamp(0, 1)
        assert not torch.equal(expected, images)
        assert torch.allclose(residual(images, condition), expected, atol=1e-6)
    with pytest.raises(ValueError):
        ConditionalGenerator(5, output="additive")


def test_residual_training_with_identity_loss_records_its_architecture(tiny_world, tmp_path):
    config = _config(tmp_path, 4, output="residual", lambda_id=10.0, lambda_tv=1.0)
    trainer = Trainer(config, task_factory("conditional"))
    logged: list[dict[str, float]] = []
    trainer.fit(on_step=lambda done, total, losses: logged.append(losses))
    generator_steps = [losses for losses in logged if "g_rec" in losses]
    assert len(generator_steps) == 2  # n_critic = 2
    first, second = (losses["g_identity"] for losses in generator_steps)
    assert first == 0.0 and 0.0 < second < 0.5  # identity until the first generator update
    assert generator_steps[0]["g_tv"] == 0.0 and generator_steps[1]["g_tv"] > 0.0
    assert "g_identity" not in logged[0]
    assert trainer.task.arch["output"] == "residual"
    assert trainer.task.model.generator.output == "residual"


def test_total_variation_of_analytic_patterns():
    rows, columns = torch.meshgrid(torch.arange(6.0), torch.arange(8.0), indexing="ij")
    checkerboard = ((rows + columns) % 2 * 2 - 1)[None, None]  # +-1: every difference is 2
    assert float(total_variation(checkerboard)) == pytest.approx(4.0)
    ramp = (columns * 0.25 + rows * 0.5)[None, None].expand(2, 3, -1, -1)
    assert float(total_variation(ramp)) == pytest.approx(0.75)
    assert float(total_variation(torch.full((1, 1, 5, 5), 0.3))) == 0.0
