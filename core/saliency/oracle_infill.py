"""``oracle-blocks``: the exact in-filler of the oracle-blocks world.

Draws the unobserved pixels from ``p(x_removed | x_kept)``, which that world makes exact
(:mod:`genlens.core.data.oracle_blocks`). It is the reference the other in-fillers are
measured against on the ``oracle-blocks`` suite; on images of any other shape it is an error.
"""

from torch import Tensor

from genlens.core.data import oracle_blocks as world
from genlens.core.errors import ParameterError
from genlens.core.models import Classifier
from genlens.core.saliency.infill import Infiller
from genlens.core.saliency.noise import SampleNoise

SHAPE = (1, world.SIZE, world.SIZE)


class OracleBlocksInfiller(Infiller):
    """Exact conditional sampling for (N, 1, 32, 32) oracle-blocks images; re-drawn on every
    call from the per-image generators, like the random in-filler."""

    name = "oracle-blocks"

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        if tuple(images.shape[1:]) != SHAPE:
            raise ParameterError(
                f"the oracle-blocks in-filler needs (N, 1, 32, 32) images of that world, "
                f"got {tuple(images.shape)}"
            )
        uniforms = noise.rand(world.UNIFORMS).to(images)
        normals = noise.randn(*SHAPE).to(images)
        return world.sample_conditional(images.float(), observed, uniforms, normals).to(images)


def oracle_blocks_infiller(classifier: Classifier) -> Infiller:
    """``oracle-blocks``: for classifiers of the oracle-blocks world (32x32 grayscale)."""
    spec = classifier.preprocessing
    if (spec.channels, *spec.input_size) != SHAPE:
        raise ParameterError(
            "the oracle-blocks in-filler is exact only for the oracle-blocks world (32x32 "
            f"grayscale); {classifier.name} takes {spec.channels} x {tuple(spec.input_size)}"
        )
    return OracleBlocksInfiller()
