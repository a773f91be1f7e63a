"""Oracle blocks: a world whose distribution is known, so the ideal in-filler is exact.

The FIDO paper (Chang et al., 2019) argues for generative in-filling with a synthetic data set
whose conditional ``p(x_removed | x_kept)`` and class posterior are exact. This is genlens' own
such world. An image is a 4 x 4 grid of 8 x 8 blocks (32 x 32, grayscale):

1. the class ``y`` is uniform over four textures (:data:`CLASS_PATTERNS`: horizontal stripes,
   vertical stripes, a checkerboard, diagonal stripes);
2. the evidence block ``j`` is uniform over the 16 positions and shows ``y``'s texture;
3. every other block shows one of six plain motifs (:data:`BACKGROUND_PATTERNS`), uniform and
   independent;
4. every pixel gets independent Gaussian noise of std :data:`NOISE_STD`, then is clipped to
   [0, 1] and stored as 8 bits.

So the label is a function of the image, the evidence set is exactly block ``j`` (its pixels
are the ground-truth mask), and :func:`sample_conditional` draws the removed pixels from their
exact conditional given any observed pixels: the posterior over ``(j, y)`` and over each other
block's motif is computed in closed form from the Gaussian likelihood. Pattern levels lie in
[0.25, 0.75], so clipping (probability below 1e-4 per pixel at 3.9 sigma) and 8-bit rounding
(std 0.0011) are the only parts the likelihood leaves out.

Splits are deterministic from ``(seed, split)``: ``train`` 20,000 images, ``val`` 2,000,
``test`` 2,000, each from its own random stream.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from genlens.core.errors import ParameterError

BLOCK = 8
GRID = 4
SIZE = BLOCK * GRID
NOISE_STD = 0.06
LOW, HIGH = 0.25, 0.75
CLASSES = ("horizontal stripes", "vertical stripes", "checkerboard", "diagonal stripes")
SPLIT_SIZES = {"train": 20_000, "val": 2_000, "test": 2_000}
_SPLIT_STREAMS = {"train": 0, "val": 1, "test": 2}


def _two_level(on: np.ndarray) -> np.ndarray:
    return np.where(on, HIGH, LOW).astype(np.float32)


def _patterns() -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:BLOCK, 0:BLOCK]
    classes = np.stack(
        [
            _two_level((rows // 2) % 2 == 0),
            _two_level((cols // 2) % 2 == 0),
            _two_level(((rows // 2) + (cols // 2)) % 2 == 0),
            _two_level(((rows + cols) // 2) % 2 == 0),
        ]
    )
    centre = (rows >= 2) & (rows < 6) & (cols >= 2) & (cols < 6)
    frame = (rows == 0) | (rows == BLOCK - 1) | (cols == 0) | (cols == BLOCK - 1)
    backgrounds = np.stack(
        [
            np.full((BLOCK, BLOCK), LOW, np.float32),
            np.full((BLOCK, BLOCK), 0.5, np.float32),
            np.full((BLOCK, BLOCK), HIGH, np.float32),
            _two_level(centre),
            _two_level(frame),
            _two_level(cols < BLOCK // 2),
        ]
    )
    return classes, backgrounds


CLASS_PATTERNS, BACKGROUND_PATTERNS = _patterns()
"""(4, 8, 8) class textures and (6, 8, 8) background motifs, levels in [0.25, 0.75]."""
ALL_PATTERNS = np.concatenate([CLASS_PATTERNS, BACKGROUND_PATTERNS]).reshape(-1, BLOCK * BLOCK)
"""(10, 64): the class textures, then the background motifs, each flattened row-major."""


@dataclass
class OracleBlocksArrays:
    """One split in memory.

    Attributes:
        images: (N, 32, 32) uint8.
        labels: (N,) int64 class (index into :data:`CLASSES`).
        evidence: (N,) int64 position of the evidence block, row-major in the 4 x 4 grid.
        backgrounds: (N, 16) int64 motif of each block (-1 at the evidence block).
    """

    images: np.ndarray
    labels: np.ndarray
    evidence: np.ndarray
    backgrounds: np.ndarray

    def masks(self) -> np.ndarray:
        """(N, 32, 32) bool ground truth: True on the evidence block."""
        return evidence_masks(self.evidence)


def blocks_to_image(blocks: np.ndarray) -> np.ndarray:
    """(N, 16, 8, 8) blocks, row-major -> (N, 32, 32) images."""
    count = blocks.shape[0]
    grid = blocks.reshape(count, GRID, GRID, BLOCK, BLOCK)
    return grid.transpose(0, 1, 3, 2, 4).reshape(count, SIZE, SIZE)


def evidence_masks(evidence: np.ndarray) -> np.ndarray:
    """(N,) evidence positions -> (N, 32, 32) bool masks of those blocks."""
    masks = np.zeros((len(evidence), GRID * GRID, BLOCK, BLOCK), dtype=bool)
    masks[np.arange(len(evidence)), evidence] = True
    return blocks_to_image(masks)


def generate(count: int, rng: np.random.Generator) -> OracleBlocksArrays:
    """``count`` images drawn from the world's distribution with ``rng``."""
    labels = rng.integers(0, len(CLASSES), count)
    evidence = rng.integers(0, GRID * GRID, count)
    backgrounds = rng.integers(0, len(BACKGROUND_PATTERNS), (count, GRID * GRID))
    blocks = BACKGROUND_PATTERNS[backgrounds]
    blocks[np.arange(count), evidence] = CLASS_PATTERNS[labels]
    backgrounds[np.arange(count), evidence] = -1
    noisy = blocks_to_image(blocks) + rng.normal(0.0, NOISE_STD, (count, SIZE, SIZE))
    images = np.round(np.clip(noisy, 0.0, 1.0) * 255).astype(np.uint8)
    return OracleBlocksArrays(images, labels, evidence, backgrounds)


@cache
def load_split(split: str, seed: int = 0) -> OracleBlocksArrays:
    """Split ``train``, ``val`` or ``test`` (deterministic from ``seed``; cached in memory)."""
    if split not in SPLIT_SIZES:
        raise ParameterError(f"unknown split {split!r}; use train, val or test")
    rng = np.random.default_rng([seed, _SPLIT_STREAMS[split]])
    return generate(SPLIT_SIZES[split], rng)


def _to_blocks(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, 32, 32) -> (N, 16, 64), row-major blocks, pixels row-major within a block."""
    count = images.shape[0]
    grid = images.reshape(count, GRID, BLOCK, GRID, BLOCK).permute(0, 1, 3, 2, 4)
    return grid.reshape(count, GRID * GRID, BLOCK * BLOCK)


def _from_blocks(blocks: torch.Tensor) -> torch.Tensor:
    """(N, 16, 64) -> (N, 1, 32, 32), the inverse of :func:`_to_blocks`."""
    count = blocks.shape[0]
    grid = blocks.reshape(count, GRID, GRID, BLOCK, BLOCK).permute(0, 1, 3, 2, 4)
    return grid.reshape(count, 1, SIZE, SIZE)


def block_log_likelihoods(images: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """Log-likelihood of each block's observed pixels under each pattern, up to a constant.

    ``images`` (N, 1, 32, 32) in [0, 1], ``observed`` (N, 1, 32, 32), 1 = observed. Returns
    (N, 16, 10): the four class textures first, then the six background motifs. An unobserved
    block scores 0 for every pattern (its prior alone decides).
    """
    patterns = torch.from_numpy(ALL_PATTERNS).to(images)
    values, weights = _to_blocks(images), _to_blocks((observed >= 0.5).to(images))
    squares = (weights * values * values).sum(dim=2, keepdim=True)
    cross = torch.einsum("nbp,kp->nbk", weights * values, patterns)
    energy = torch.einsum("nbp,kp->nbk", weights, patterns * patterns)
    return -(squares - 2 * cross + energy) / (2 * NOISE_STD**2)


def _gumbel(uniform: torch.Tensor) -> torch.Tensor:
    tiny = torch.finfo(uniform.dtype).tiny
    return -torch.log(-torch.log(uniform.clamp(tiny, 1 - 1e-7)))


def posterior_evidence(images: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """Exact posterior over (evidence position, class) given the observed pixels.

    Returns log-probabilities (N, 16, 4) that sum to 1 over the last two axes: block ``j``
    shows class ``y``'s texture and every other block one of the background motifs.
    """
    return _posterior(block_log_likelihoods(images, observed))


def _posterior(scores: torch.Tensor) -> torch.Tensor:
    """:func:`posterior_evidence` from the block log-likelihoods (N, 16, 10)."""
    classes = len(CLASS_PATTERNS)
    background = scores[..., classes:].logsumexp(dim=2)
    joint = scores[..., :classes] + (background.sum(dim=1, keepdim=True) - background)[..., None]
    flat = joint.reshape(joint.shape[0], -1)
    return (flat - flat.logsumexp(dim=1, keepdim=True)).reshape(joint.shape)


UNIFORMS = GRID * GRID * (len(CLASS_PATTERNS) + len(BACKGROUND_PATTERNS))
"""Uniform numbers per image :func:`sample_conditional` needs: 64 for (evidence, class), then
6 for each of the 16 blocks' motifs."""


def sample_conditional(
    images: torch.Tensor, observed: torch.Tensor, uniforms: torch.Tensor, normals: torch.Tensor
) -> torch.Tensor:
    """Draw every pixel from the exact conditional given the observed ones.

    ``images``/``observed`` (N, 1, 32, 32); ``uniforms`` (N, :data:`UNIFORMS`) in [0, 1) and
    ``normals`` (N, 1, 32, 32) standard normal are the randomness. ``(j, y)`` is drawn from
    :func:`posterior_evidence` and each other block's motif from its own posterior (Gumbel-max),
    then each pixel as pattern + N(0, NOISE_STD^2) noise, clipped to [0, 1]. Observed pixels are
    drawn too (callers keep the originals there). Returns (N, 1, 32, 32).
    """
    count, classes = images.shape[0], len(CLASS_PATTERNS)
    pairs = GRID * GRID * classes
    scores = block_log_likelihoods(images, observed)
    joint = _posterior(scores).reshape(count, pairs)
    pick = (joint + _gumbel(uniforms[:, :pairs])).argmax(dim=1)
    evidence, label = pick // classes, pick % classes
    motifs = scores[..., classes:]
    noise = _gumbel(uniforms[:, pairs:].reshape(motifs.shape))
    chosen = (motifs + noise).argmax(dim=2) + classes
    chosen[torch.arange(count), evidence] = label
    blocks = torch.from_numpy(ALL_PATTERNS).to(images)[chosen]
    return (_from_blocks(blocks) + NOISE_STD * normals).clamp(0, 1)
