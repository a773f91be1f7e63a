"""The three things ``genlens train`` trains, as :class:`TrainTask` implementations.

* ``classifier``: :class:`SmallCNN` with cross-entropy, flip + shift augmentation.
* ``infiller``: :class:`InfillNet` on FIDO-like masks, L1 on the hidden pixels; reports masked
  L1/PSNR on the test split against the local-mean and blur in-fillers.
* ``prior``: DeePSiM-style :class:`PriorNet` inverting the classifier's penultimate features
  with image + feature + adversarial losses; reports reconstruction error and top-1 agreement.

Task options (``TrainConfig.options``) and their defaults are listed in each class's
``DEFAULTS``; the card records the effective values.
"""

import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from genlens.core.errors import ParameterError
from genlens.core.generative.loading import architecture, build, resolve_classifier
from genlens.core.generative.masks import fido_masks
from genlens.core.generative.nets import GLOBAL_POOLS, PENULTIMATE
from genlens.core.generative.prior import penultimate_features
from genlens.core.generative.worlds import World, get_world, to_unit
from genlens.core.saliency.infill import BlurInfiller, LocalMeanInfiller
from genlens.core.training.config import TrainConfig
from genlens.core.training.trainer import TrainTask, autocast

EVAL_BATCH = 500
STATISTICS_IMAGES = 5_000
"""Training images whose codes set the prior's code statistics and bounds."""
SAMPLE_COUNT = 8


def _options(config: TrainConfig, defaults: dict[str, Any]) -> dict[str, Any]:
    unknown = set(config.options) - set(defaults)
    if unknown:
        raise ParameterError(f"unknown options for {config.kind}: {sorted(unknown)}")
    return {**defaults, **config.options}


def _eval_split(world: World, config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = world.split("test")
    if config.eval_size:
        images, labels = images[: config.eval_size], labels[: config.eval_size]
    return images, labels


def _batches(count: int) -> list[slice]:
    return [slice(start, start + EVAL_BATCH) for start in range(0, count, EVAL_BATCH)]


class WorldTask(TrainTask):
    """A task on a world: keeps the config, device, world and effective options."""

    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: TrainConfig, device: torch.device):
        self.config, self.device = config, device
        self.world = get_world(config.dataset)
        self.options = _options(config, self.DEFAULTS)


class ClassifierTask(WorldTask):
    """Train a classifier on a world: a :class:`SmallCNN` (64x64 worlds use a stride-2 stem) or,
    with ``arch``, any timm architecture at the world's size and channels.

    Options: ``arch`` (``"small_cnn"`` or a timm name such as ``"vit_tiny_patch16_224"``),
    ``model_args`` (further timm arguments, e.g. ``{"patch_size": 8, "depth": 4}``),
    ``weight_decay`` (AdamW), ``shift`` (max random shift in px); for ``small_cnn`` only:
    ``widths`` (three stage widths), ``stem_pool`` (full-resolution stem conv + max-pool instead
    of a strided stem) and ``pooling`` (global pooling of the last stage: ``avg`` or ``max``).
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "arch": "small_cnn",
        "model_args": {},
        "widths": [16, 32, 64],
        "weight_decay": 5e-4,
        "shift": 2,
        "stem_pool": False,
        "pooling": "avg",
    }
    CNN_ONLY = ("widths", "stem_pool", "pooling")

    def __init__(self, config: TrainConfig, device: torch.device):
        super().__init__(config, device)
        self.arch = self._architecture(config)
        self.net = build(self.arch).to(device)
        self.modules = {"net": self.net}
        self.optimizers = {
            "net": torch.optim.AdamW(
                self.net.parameters(), lr=config.lr, weight_decay=self.options["weight_decay"]
            )
        }
        self.export = "net"
        self.train_arrays = self.world.split("train")
        self.mean = torch.tensor(self.world.mean, device=device)
        self.std = torch.tensor(self.world.std, device=device)

    def _architecture(self, config: TrainConfig) -> dict[str, Any]:
        """The card's ``arch`` entry for the options."""
        classes, channels = len(self.world.labels), self.world.channels
        if self.options["arch"] != "small_cnn":
            misplaced = sorted(set(config.options) & set(self.CNN_ONLY))
            if misplaced:
                raise ParameterError(f"options {misplaced} apply to arch small_cnn only")
            model_args = self.options["model_args"]
            if not isinstance(model_args, dict):
                raise ParameterError("model_args must be a JSON object of timm arguments")
            fixed = sorted(set(model_args) & {"num_classes", "in_chans", "img_size"})
            if fixed:
                raise ParameterError(f"model_args {fixed} are set by the world, not an option")
            return architecture(
                "timm",
                model=self.options["arch"],
                **model_args,
                num_classes=classes,
                in_chans=channels,
                img_size=self.world.size,
            )
        pooling = self.options["pooling"]
        if pooling not in GLOBAL_POOLS:
            choices = ", ".join(GLOBAL_POOLS)
            raise ParameterError(f"unknown pooling {pooling!r}; choose from {choices}")
        return architecture(
            "small_cnn",
            channels=channels,
            num_classes=classes,
            widths=list(self.options["widths"]),
            stem_stride=self.world.size // 32,
            stem_pool=bool(self.options["stem_pool"]),
            pooling=pooling,
        )

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Logits for uint8 images (B, C, H, W)."""
        return self.net((to_unit(images) - self.mean) / self.std)

    def step(self, batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> dict[str, float]:
        images, labels = batch
        images = augment(images, generator, self.options["shift"])
        with autocast(self.device, self.config.precision):
            loss = F.cross_entropy(self.logits(images).float(), labels)
        optimizer = self.optimizers["net"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": loss.item()}

    def samples(self) -> torch.Tensor:
        images, _ = self.world.split("test")
        return to_unit(images[: 4 * SAMPLE_COUNT])

    def evaluate(self) -> dict[str, float]:
        images, labels = _eval_split(self.world, self.config)
        correct = sum(
            int((self.logits(images[part].to(self.device)).argmax(1).cpu() == labels[part]).sum())
            for part in _batches(len(images))
        )
        return {"test_accuracy": correct / len(images), "test_images": len(images)}

    def _penultimate(self) -> str | None:
        """The layer whose output is the pooled feature vector (``None``: no such module)."""
        if self.arch["type"] == "small_cnn":
            return PENULTIMATE
        return "fc_norm" if hasattr(self.net, "fc_norm") else None

    def describe(self) -> dict[str, Any]:
        spec = self.world.preprocessing
        return {
            "world": self.world.name,
            "arch": self.arch,
            "options": self.options,
            "labels": list(self.world.labels),
            "penultimate": self._penultimate(),
            "preprocessing": {
                "input_size": list(spec.input_size),
                "mean": list(spec.mean),
                "std": list(spec.std),
                "crop_pct": spec.crop_pct,
                "interpolation": spec.interpolation,
            },
        }


def augment(images: torch.Tensor, generator: torch.Generator, shift: int) -> torch.Tensor:
    """Random horizontal flips per sample and one random shift of up to ``shift`` px per batch.

    Works on uint8 (B, C, H, W); shifted-in borders are zero.
    """
    count = len(images)
    flips = torch.rand(count, generator=generator, device=images.device) < 0.5
    images = torch.where(flips.view(-1, 1, 1, 1), images.flip(3), images)
    if shift:
        dy, dx = (
            torch.randint(-shift, shift + 1, (2,), generator=generator, device=images.device)
            .cpu()
            .tolist()
        )
        padded = F.pad(images, (shift, shift, shift, shift))
        height, width = images.shape[-2:]
        images = padded[..., shift + dy : shift + dy + height, shift + dx : shift + dx + width]
    return images


class InfillerTask(WorldTask):
    """Train an :class:`InfillNet` on FIDO-like masks (L1 on the hidden pixels)."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "width": 16,
        "dilations": [2, 4, 8],
        "observed_weight": 0.1,
    }

    def __init__(self, config: TrainConfig, device: torch.device):
        super().__init__(config, device)
        self.arch = architecture(
            "infill_net",
            channels=self.world.channels,
            width=self.options["width"],
            dilations=list(self.options["dilations"]),
        )
        self.net = build(self.arch).to(device)
        self.modules = {"net": self.net}
        self.optimizers = {"net": torch.optim.Adam(self.net.parameters(), lr=config.lr)}
        self.export = "net"
        self.train_arrays = (self.world.split("train")[0],)

    def fill(self, images: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        """Fill (B, C, H, W) in [0, 1] for [0, 1] images and masks (1 = observed)."""
        return self.net(images * observed, observed)

    def step(self, batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> dict[str, float]:
        images = augment(batch[0], generator, shift=0)
        images = to_unit(images)
        observed = fido_masks(len(images), self.world.size, generator)
        with autocast(self.device, self.config.precision):
            fill = self.fill(images, observed).float()
        error = (fill - images).abs()
        hidden = 1.0 - observed
        hidden_l1 = (error * hidden).sum() / hidden.sum().clamp_min(1.0)
        observed_l1 = (error * observed).sum() / observed.sum().clamp_min(1.0)
        loss = hidden_l1 + self.options["observed_weight"] * observed_l1
        optimizer = self.optimizers["net"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": loss.item(), "hidden_l1": hidden_l1.item()}

    def _fixed_masks(self, count: int) -> torch.Tensor:
        generator = torch.Generator(device=self.device).manual_seed(12345)
        return fido_masks(count, self.world.size, generator)

    def samples(self) -> torch.Tensor:
        images = to_unit(self.world.split("test")[0][:SAMPLE_COUNT].to(self.device))
        observed = self._fixed_masks(SAMPLE_COUNT)
        composite = images * observed + (1 - observed) * self.fill(images, observed)
        return torch.cat([images * observed, composite, images])

    def evaluate(self) -> dict[str, float]:
        """Masked-region L1 and PSNR (dB) of this model and the local-mean and blur fills."""
        images = _eval_split(self.world, self.config)[0]
        masks = self._fixed_masks(len(images))
        colour = torch.full((self.world.channels,), self.world.mean, device=self.device)
        fills: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
            "learned": self.fill,
            "local_mean": lambda x, m: LocalMeanInfiller(colour).fill(x, m, None),
            "blur": lambda x, m: BlurInfiller().fill(x, m, None),
        }
        sums = {name: torch.zeros(2) for name in fills}
        hidden_total = 0.0
        for part in _batches(len(images)):
            batch = to_unit(images[part].to(self.device))
            hidden = 1.0 - masks[part]
            hidden_total += float(hidden.sum()) * self.world.channels
            for name, fill in fills.items():
                error = (fill(batch, masks[part]) - batch) * hidden
                sums[name] += torch.tensor([float(error.abs().sum()), float(error.pow(2).sum())])
        metrics: dict[str, float] = {"test_images": len(images)}
        for name, (l1, squared) in sums.items():
            metrics[f"{name}_masked_l1"] = l1.item() / hidden_total
            metrics[f"{name}_masked_psnr"] = 10 * math.log10(hidden_total / squared.item())
        return metrics

    def describe(self) -> dict[str, Any]:
        return {"world": self.world.name, "arch": self.arch, "options": self.options}


class PriorTask(WorldTask):
    """Train a DeePSiM-style generator prior that inverts the classifier's penultimate features.

    Losses for G: ``image * MSE(G(c), x) + feature * MSE(E(G(c)), c) / mean(c^2)
    + logits * KL(softmax(clf(x)) || softmax(clf(G(c)))) + adversarial * BCE(D(G(c), c), 1)``;
    D is trained with BCE on (x, c) as real and (G(c), c) as fake.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "width": 64,
        "disc_width": 32,
        "image": 10.0,
        "feature": 0.1,
        "logits": 0.2,
        "adversarial": 0.01,
    }

    def __init__(self, config: TrainConfig, device: torch.device):
        if not config.classifier:
            raise ParameterError("training a prior needs the classifier whose features it inverts")
        super().__init__(config, device)
        self.classifier = resolve_classifier(config.classifier, str(device))
        self.train_arrays = (self.world.split("train")[0],)
        codes = self.encode_all(self.train_arrays[0][:STATISTICS_IMAGES])[0]
        self.arch = architecture(
            "prior_net",
            code_dim=codes.shape[1],
            channels=self.world.channels,
            size=self.world.size,
            width=self.options["width"],
        )
        self.prior = build(self.arch).to(device)
        self.prior.set_statistics(codes)
        self.code_power = float(codes.pow(2).mean())
        self.disc = build(
            architecture(
                "discriminator",
                code_dim=codes.shape[1],
                channels=self.world.channels,
                width=self.options["disc_width"],
            )
        ).to(device)
        self.modules = {"prior": self.prior, "disc": self.disc}
        self.optimizers = {
            "prior": torch.optim.Adam(self.prior.parameters(), lr=config.lr, betas=(0.9, 0.999)),
            "disc": torch.optim.Adam(self.disc.parameters(), lr=config.lr, betas=(0.5, 0.999)),
        }
        self.export = "prior"

    @torch.no_grad()
    def encode_all(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes (N, D) and logits (N, K) of uint8 images, in batches."""
        parts = [
            self.encode(to_unit(images[part].to(self.device))) for part in _batches(len(images))
        ]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(codes (B, D), logits (B, K)) of [0, 1] images through the classifier."""
        return penultimate_features(self.classifier, images, PENULTIMATE)

    def step(self, batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> dict[str, float]:
        images = to_unit(batch[0])
        with torch.no_grad():
            codes, logits = self.encode(images)
        options = self.options
        with autocast(self.device, self.config.precision):
            fake = self.prior(codes).float()
            real_score = self.disc(images, codes).float()
            fake_score = self.disc(fake.detach(), codes).float()
        disc_loss = F.binary_cross_entropy_with_logits(
            real_score, torch.ones_like(real_score)
        ) + F.binary_cross_entropy_with_logits(fake_score, torch.zeros_like(fake_score))
        self.optimizers["disc"].zero_grad(set_to_none=True)
        disc_loss.backward()
        self.optimizers["disc"].step()
        with autocast(self.device, self.config.precision):
            fake_codes, fake_logits = self.encode(fake)
            adversarial_score = self.disc(fake, codes).float()
        image_loss = F.mse_loss(fake, images)
        feature_loss = F.mse_loss(fake_codes.float(), codes) / self.code_power
        logit_loss = F.kl_div(
            fake_logits.float().log_softmax(1),
            logits.log_softmax(1),
            log_target=True,
            reduction="batchmean",
        )
        adversarial = F.binary_cross_entropy_with_logits(
            adversarial_score, torch.ones_like(adversarial_score)
        )
        loss = (
            options["image"] * image_loss
            + options["feature"] * feature_loss
            + options["logits"] * logit_loss
            + options["adversarial"] * adversarial
        )
        self.optimizers["prior"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers["prior"].step()
        return {
            "image": image_loss.item(),
            "feature": feature_loss.item(),
            "logits": logit_loss.item(),
            "disc": disc_loss.item(),
        }

    def samples(self) -> torch.Tensor:
        images = to_unit(self.world.split("test")[0][: 2 * SAMPLE_COUNT].to(self.device))
        return torch.cat([images, self.prior(self.encode(images)[0])])

    def evaluate(self) -> dict[str, float]:
        """Reconstruction MSE/L1 and the classifier's top-1 agreement on G(E(x))."""
        images = _eval_split(self.world, self.config)[0]
        agree, squared, absolute = 0, 0.0, 0.0
        for part in _batches(len(images)):
            batch = to_unit(images[part].to(self.device))
            codes, logits = self.encode(batch)
            fake = self.prior(codes)
            agree += int((self.classifier(fake).argmax(1) == logits.argmax(1)).sum())
            squared += float((fake - batch).pow(2).sum())
            absolute += float((fake - batch).abs().sum())
        pixels = images.numel()
        return {
            "top1_agreement": agree / len(images),
            "reconstruction_mse": squared / pixels,
            "reconstruction_l1": absolute / pixels,
            "test_images": len(images),
        }

    def describe(self) -> dict[str, Any]:
        return {
            "world": self.world.name,
            "arch": self.arch,
            "options": self.options,
            "classifier": self.config.classifier,
            "code_layer": PENULTIMATE,
        }


TaskFactory = Callable[[TrainConfig, torch.device], TrainTask]
TASKS: dict[str, TaskFactory] = {
    "classifier": ClassifierTask,
    "infiller": InfillerTask,
    "prior": PriorTask,
}


def task_factory(kind: str) -> TaskFactory:
    """The task class for ``kind`` (``classifier``, ``infiller`` or ``prior``)."""
    try:
        return TASKS[kind]
    except KeyError:
        raise ParameterError(
            f"unknown model kind {kind!r}; choose from {', '.join(TASKS)}"
        ) from None
