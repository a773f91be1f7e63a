"""The oracle-blocks world: its generative process, the exact posterior against a direct
computation, and the oracle in-filler's draws against what the posterior says."""

import math

import numpy as np
import pytest
import torch

from genlens.core.data import oracle_blocks as world
from genlens.core.errors import ParameterError
from genlens.core.generative.worlds import get_world
from genlens.core.models import load_classifier
from genlens.core.saliency import make_infiller
from genlens.core.saliency.noise import SampleNoise


@pytest.fixture(scope="module")
def test_split() -> world.OracleBlocksArrays:
    return world.load_split("test")


def _tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float().div(255).unsqueeze(1)


def test_the_label_is_the_texture_of_the_evidence_block(test_split):
    images = test_split.images.astype(np.float32) / 255
    masks = test_split.masks()
    assert masks.shape == (2000, 32, 32) and (masks.sum(axis=(1, 2)) == 64).all()
    blocks = images[masks].reshape(-1, 8, 8)
    distances = ((blocks[:, None] - world.CLASS_PATTERNS[None]) ** 2).mean(axis=(2, 3))
    assert (distances.argmin(axis=1) == test_split.labels).all()
    assert np.bincount(test_split.labels).min() > 400  # four classes, about 500 each
    again = world.load_split("test")
    assert again is test_split and not np.array_equal(
        world.load_split("val").images[:10], images[:10]
    )
    train = get_world("oracle-blocks").split("train")
    assert train[0].shape == (20_000, 1, 32, 32) and train[0].dtype == torch.uint8


def _direct_posterior(image: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """log p(j, y | observed pixels) by an explicit sum over positions and classes, with
    the Gaussian log-densities of torch.distributions and the priors written out."""
    normal = torch.distributions.Normal
    values = image[0].double()
    seen = observed[0, 0] >= 0.5
    pattern_images = {}

    def block_loglik(row: int, col: int, pattern: np.ndarray) -> torch.Tensor:
        region = (slice(8 * row, 8 * row + 8), slice(8 * col, 8 * col + 8))
        density = normal(torch.from_numpy(pattern).double(), world.NOISE_STD).log_prob(
            values[region]
        )
        return density[seen[region]].sum()

    for row in range(4):
        for col in range(4):
            pattern_images[row, col] = [
                block_loglik(row, col, pattern)
                for pattern in (*world.CLASS_PATTERNS, *world.BACKGROUND_PATTERNS)
            ]
    background = {
        key: torch.logsumexp(torch.stack(scores[4:]), 0) - math.log(6)
        for key, scores in pattern_images.items()
    }
    joint = torch.empty(16, 4, dtype=torch.float64)
    for position, key in enumerate(sorted(pattern_images)):
        others = sum(value for other, value in background.items() if other != key)
        for label in range(4):
            joint[position, label] = (
                math.log(1 / 16) + math.log(1 / 4) + pattern_images[key][label] + others
            )
    return joint - torch.logsumexp(joint.flatten(), 0)


def test_posterior_matches_a_direct_computation(test_split):
    images = _tensor(test_split.images[:3])
    generator = torch.Generator().manual_seed(0)
    observed = (torch.rand(3, 1, 32, 32, generator=generator) > 0.97).float()  # 3% seen
    posterior = world.posterior_evidence(images, observed)
    for index in range(3):
        expected = _direct_posterior(images[index], observed[index : index + 1])
        torch.testing.assert_close(posterior[index].double(), expected, atol=1e-4, rtol=0)
    full = world.posterior_evidence(images, torch.ones_like(images)).exp()
    for index in range(3):
        truth = full[index, test_split.evidence[index], test_split.labels[index]]
        assert truth > 0.999
    nothing = world.posterior_evidence(images, torch.zeros_like(images)).exp()
    torch.testing.assert_close(nothing, torch.full_like(nothing, 1 / 64))


def test_oracle_draws_follow_the_posterior(test_split):
    """Hide only the evidence block: every draw puts a class texture there and nowhere else,
    the four classes about equally often; the observed blocks keep their motifs."""
    image = _tensor(test_split.images[:1])
    observed = torch.from_numpy(~test_split.masks()[:1]).float().unsqueeze(1)
    draws = 400
    noise = SampleNoise(1, draws, seed=0, device=torch.device("cpu"))
    fills = make_infiller("oracle-blocks", load_classifier("fmnist-cnn")).fill(
        image.expand(draws, -1, -1, -1), observed.expand(draws, -1, -1, -1), noise
    )
    assert fills.shape == (draws, 1, 32, 32) and fills.min() >= 0 and fills.max() <= 1
    hidden = fills[:, 0][torch.from_numpy(test_split.masks()[:1]).expand(draws, -1, -1)]
    blocks = hidden.reshape(draws, 8, 8).numpy()
    distances = ((blocks[:, None] - world.CLASS_PATTERNS[None]) ** 2).mean(axis=(2, 3))
    assert distances.min(axis=1).max() < 2 * world.NOISE_STD**2  # always a class texture
    shares = np.bincount(distances.argmin(axis=1), minlength=4) / draws
    assert np.abs(shares - 0.25).max() < 0.07
    kept = (fills - image).abs()[observed.expand(draws, -1, -1, -1).bool()]
    assert kept.mean() < 1.5 * world.NOISE_STD  # the same motifs, fresh noise


def test_oracle_infiller_refuses_other_worlds():
    with pytest.raises(ParameterError, match="only for the oracle-blocks world"):
        make_infiller("oracle-blocks", load_classifier("efficientnet_lite0"))


def test_the_suite_and_the_shipped_models_of_the_world():
    """The suite's ground truth is the evidence block; the shipped classifier reads the
    label off it; ``learned`` is that world's shipped in-filler."""
    from genlens.core.generative.shipped import world_of
    from genlens.evaluation.suites import get_suite

    classifier = load_classifier("oracle-blocks-cnn")
    data = get_suite("oracle-blocks").load(classifier)
    arrays = world.load_split("test")
    assert torch.equal(data.masks, torch.from_numpy(arrays.masks()[:64]))
    assert (classifier.predict(data.images).argmax(dim=1) == data.target).all()
    assert world_of(classifier) == "oracle-blocks"
    learned = make_infiller("learned", classifier)
    hidden = torch.from_numpy(~arrays.masks()[:8]).float().unsqueeze(1)
    noise = SampleNoise(8, 1, seed=0, device=torch.device("cpu"))
    fill = learned.fill(data.images[:8], hidden, noise)
    local = make_infiller("local-mean", classifier).fill(data.images[:8], hidden, noise)
    truth = data.images[:8]
    block = ~hidden.bool()
    assert (fill - truth).abs()[block].mean() < (local - truth).abs()[block].mean()
