"""Generator priors for DGN-AM: a frozen generator G mapping codes to images.

A :class:`GeneratorPrior` turns codes (B, *code_shape) into images (B, C, H, W) in [0, 1] and
adapts them to a classifier's input (resize, RGB -> grayscale). Priors are registered by name
(:func:`register_prior`; built-ins in :mod:`genlens.catalog`): ``"dcgan_faces"``, the DCGAN face
generator shipped in PyPI ``gan-face-generate``, and the DeePSiM priors genlens trained
(``<world>-deepsim``). Wherever a prior name is taken, a :class:`GeneratorPrior` is taken too.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import torch
from torch import nn

from genlens.core.errors import ModelLoadError, ParameterError
from genlens.core.featviz.transforms import resize
from genlens.core.models import Classifier
from genlens.core.registries import PRIORS

# ITU-R BT.601 luma weights for RGB -> grayscale
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class CodeBounds:
    """Per-dimension code bounds ``low <= y <= high``, tensors of the prior's code shape."""

    low: torch.Tensor
    high: torch.Tensor
    source: str

    def clip(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes (B, *code_shape) clipped elementwise into the bounds."""
        return torch.maximum(torch.minimum(codes, self.high.to(codes)), self.low.to(codes))

    def contains(self, codes: torch.Tensor, tolerance: float = 1e-6) -> bool:
        """Whether every code lies within the bounds (up to ``tolerance``)."""
        low, high = self.low.to(codes), self.high.to(codes)
        return bool(((codes >= low - tolerance) & (codes <= high + tolerance)).all())

    def to_dict(self) -> dict:
        """JSON summary: where the bounds come from and their average range."""
        return {
            "source": self.source,
            "mean_low": float(self.low.mean()),
            "mean_high": float(self.high.mean()),
        }


class GeneratorPrior(ABC):
    """A frozen code -> image generator.

    Attributes:
        name: registry name.
        code_shape: shape of one code, e.g. (100,).
        image_size: (H, W) of generated images.
        channels: channels of generated images (1 or 3).
        device: where the generator runs.
    """

    name: str
    code_shape: tuple[int, ...]
    image_size: tuple[int, int]
    channels: int
    device: torch.device

    @abstractmethod
    def generate(self, codes: torch.Tensor) -> torch.Tensor:
        """Differentiable images (B, channels, *image_size) in [0, 1] for codes (B, *code_shape)."""

    @abstractmethod
    def sample_codes(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """Codes (count, *code_shape) from the prior's sampling distribution, on ``device``."""

    @property
    def has_encoder(self) -> bool:
        """Whether :meth:`encode` maps images to codes directly (else invert by optimization)."""
        return False

    def bounds(self) -> CodeBounds | None:
        """Per-dimension code bounds estimated from the prior's training data, if it has them.

        DGN-AM clips to these by default; ``None`` (the default) makes it fall back to bounds
        from the prior's sampling distribution.
        """
        return None

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Codes (B, *code_shape) for images (B, C, H, W) in [0, 1]; only when ``has_encoder``."""
        raise ParameterError(f"prior {self.name} has no encoder; invert it by optimization")

    def to_classifier(self, images: torch.Tensor, classifier: Classifier) -> torch.Tensor:
        """Generated images -> the classifier's input size and channel count, still in [0, 1]."""
        channels = classifier.preprocessing.channels
        if channels == 1 and images.shape[1] == 3:
            luma = torch.tensor(_LUMA, device=images.device, dtype=images.dtype)
            images = torch.einsum("c,bchw->bhw", luma, images)[:, None]
        elif channels == 3 and images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        return resize(images.to(classifier.device), classifier.preprocessing.input_size)

    def check_codes(self, codes: torch.Tensor) -> None:
        """Raise :class:`ParameterError` unless ``codes`` is (B, *code_shape)."""
        if codes.ndim != len(self.code_shape) + 1 or tuple(codes.shape[1:]) != self.code_shape:
            raise ParameterError(
                f"{self.name} codes must have shape (B, {', '.join(map(str, self.code_shape))}), "
                f"got {tuple(codes.shape)}"
            )


class DCGANFacePrior(GeneratorPrior):
    """DCGAN face generator (3.6 M parameters, DigiFace-1M) from ``gan-face-generate``.

    Codes are z ~ N(0, I) of shape (100,); images are 64x64 RGB (tanh output mapped to [0, 1]).
    Its faces are synthetic renders, so the prior pulls visualizations towards rendered faces.
    """

    name = "dcgan_faces"
    code_shape = (100,)
    image_size = (64, 64)
    channels = 3

    def __init__(self, device: torch.device | str = "cpu"):
        try:
            from gan_face_generate.models import Generator
        except ImportError as exc:
            raise ModelLoadError(
                "the DCGAN face prior needs `pip install --no-deps gan-face-generate==1.1.1`"
            ) from exc
        weights = resources.files("gan_face_generate") / "weights.tar"
        with resources.as_file(weights) as path:
            state = torch.load(path, map_location="cpu", weights_only=True)["netG_state_dict"]
        network = Generator(ngpu=0, nc=3, nz=100, ngf=64)
        network.load_state_dict(state)
        self.network: nn.Module = network.eval().to(device)
        for parameter in self.network.parameters():
            parameter.requires_grad_(False)
        self.device = torch.device(device)

    def generate(self, codes: torch.Tensor) -> torch.Tensor:
        self.check_codes(codes)
        return (self.network(codes[:, :, None, None]) + 1) / 2

    def sample_codes(self, count: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn((count, *self.code_shape), generator=generator).to(self.device)


PriorFactory = Callable[[torch.device | str], GeneratorPrior]


def register_prior(name: str, factory: PriorFactory) -> None:
    """Make ``load_prior(name, device)`` call ``factory(device)``; re-registering replaces it."""
    if not name or not callable(factory):
        raise ParameterError("register_prior needs a non-empty name and a callable factory")
    PRIORS.register(name, factory)


def registered_priors() -> list[str]:
    """Names accepted by :func:`load_prior`."""
    return PRIORS.names()


def load_prior(prior: str | GeneratorPrior, device: torch.device | str = "cpu") -> GeneratorPrior:
    """The registered prior ``prior`` built on ``device``, or a :class:`GeneratorPrior` object
    returned as it is."""
    if isinstance(prior, GeneratorPrior):
        return prior
    return PRIORS.get(prior)(device)
