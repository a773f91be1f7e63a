"""``genlens train conditional``: StarGAN generator G(x, c) conditioned on classifier features.

algorithms.md §1 (alexbrx/generative-features) with the classifier's feature vector c as the
domain label. One trainer step = one critic update; the generator is updated when
``(iteration + 1) % n_critic == 0`` (the iteration count is the critic optimiser's Adam step,
so resuming keeps the schedule). Targets are an in-batch permutation of the batch's own
features. The trainer's warm-up + cosine schedule scales the Adam learning rate (the original's
linear decay was in effect constant).

Losses (f = classifier features standardised with the training mean/std, D_f/D_o = the critic's
feature/output heads, dist = MSE or CCC (``distance``)):

* critic: ``-D(x) + D(G(x, c')) + lambda_cls dist(D_f(x), f(x)) + lambda_gp GP``
  (+ ``lambda_pred KL(softmax clf(x) || softmax D_o(x))`` with ``predict_outputs``);
* generator: ``-D(G(x, c')) + lambda_rec |x - G(G(x, c'), f(x))| + lambda_cls dist(D_f(G), c')``
  (+ the output term on the target's logits) ``+ lambda_clf dist(f(G(x, c')), c')`` — the
  optional loss through the **real** classifier that the original lacked (0 = off)
  ``+ lambda_id |x - G(x, f(x))|`` — an identity loss (0 = off, the original's behaviour):
  rendering an image with its own features should return it unchanged,
  ``+ lambda_tv TV(G(x, c') - x)`` — the total variation (mean absolute difference of
  horizontally and vertically adjacent pixels) of the edit, which penalises high-frequency
  textures that steer the classifier without looking like an edit (0 = off).

Option ``output`` (``direct`` | ``residual``,
:class:`~genlens.core.generative.conditional.nets.Output`)
chooses whether G redraws the image (StarGAN, default) or adds a bounded change to its input;
``upsampling`` (``transposed`` | ``resize``,
:class:`~genlens.core.generative.conditional.nets.Upsampling`) how its decoder up-samples;
``condition`` (``absolute`` | ``difference``,
:class:`~genlens.core.generative.conditional.nets.Condition`) whether G sees c' or c' - f(x)
(the cycle then asks f(x) - c' of the edit, the identity term a zero code).
Option ``init`` (a shipped conditional model's name or a trained folder) starts the generator
from that model's weights wherever names and shapes agree, e.g. a 128-d generator from a 7-d one
of the same width: only the condition-sized FiLM layers (zero at initialisation) start afresh.

Data: the world's training images with their features and logits, computed once at start.
"""

from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from genlens.core.errors import ParameterError
from genlens.core.generative.conditional.api import load_conditional_network
from genlens.core.generative.conditional.editor import fit_editor, traversal_targets
from genlens.core.generative.conditional.features import default_layer, extract, features_and_logits
from genlens.core.generative.conditional.losses import (
    feature_distance,
    gradient_penalty,
    total_variation,
)
from genlens.core.generative.conditional.metrics import conditional_metrics
from genlens.core.generative.conditional.nets import ConditionalModel, FeatureCritic
from genlens.core.generative.loading import architecture, build, resolve_classifier
from genlens.core.generative.worlds import to_unit
from genlens.core.training.config import TrainConfig
from genlens.core.training.tasks import TASKS, WorldTask, _eval_split

SAMPLE_ROWS = 6


class ConditionalTask(WorldTask):
    """Train a :class:`ConditionalModel` and its :class:`FeatureCritic` on a world."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "conv_dim": 64,
        "repeat_num": 6,
        "downsamplings": 2,
        "injection": "tiled",
        "d_conv_dim": 64,
        "d_repeat_num": None,
        "d_max_dim": 512,
        "layer": None,
        "distance": "mse",
        "lambda_cls": 1.0,
        "lambda_rec": 10.0,
        "lambda_gp": 10.0,
        "lambda_clf": 0.0,
        "lambda_id": 0.0,
        "lambda_tv": 0.0,
        "output": "direct",
        "upsampling": "transposed",
        "condition": "absolute",
        "predict_outputs": False,
        "lambda_pred": 1.0,
        "n_critic": 5,
        "beta1": 0.5,
        "beta2": 0.999,
        "components": 3,
        "train_images": 0,
        "init": None,
    }

    def __init__(self, config: TrainConfig, device: torch.device):
        if not config.classifier:
            raise ParameterError("training a conditional generator needs --classifier")
        super().__init__(config, device)
        options = self.options
        if not isinstance(options["predict_outputs"], bool):
            raise ParameterError("option predict_outputs must be true or false (JSON)")
        self.classifier = resolve_classifier(config.classifier, str(device))
        self.layer = options["layer"] or default_layer(self.classifier)
        self.distance = feature_distance(options["distance"])
        images = self.world.split("train")[0]
        if options["train_images"]:
            images = images[: options["train_images"]]
        features, logits = extract(self.classifier, images, self.layer)
        self.train_arrays = (images, features, logits)
        world = self.world
        self.arch = architecture(
            "conditional_model",
            c_dim=features.shape[1],
            channels=world.channels,
            image_size=world.size,
            conv_dim=options["conv_dim"],
            repeat_num=options["repeat_num"],
            injection=options["injection"],
            downsamplings=options["downsamplings"],
            components=min(options["components"], features.shape[1]),
            output=options["output"],
            upsampling=options["upsampling"],
            condition=options["condition"],
        )
        self.model: ConditionalModel = build(self.arch).to(device)
        if options["init"]:
            self._initialise(str(options["init"]))
        fit_editor(self.model, features)
        d_repeat = options["d_repeat_num"] or max(world.size.bit_length() - 2, 1)
        self.critic = FeatureCritic(
            features.shape[1],
            world.channels,
            world.size,
            options["d_conv_dim"],
            d_repeat,
            options["d_max_dim"],
            logits.shape[1] if options["predict_outputs"] else 0,
        ).to(device)
        betas = (options["beta1"], options["beta2"])
        self.modules = {"model": self.model, "critic": self.critic}
        self.optimizers = {
            "generator": torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=betas),
            "critic": torch.optim.Adam(self.critic.parameters(), lr=config.lr, betas=betas),
        }
        self.export = "model"

    def _initialise(self, source: str) -> None:
        """Copy the generator weights of ``source`` whose names and shapes match this one's."""
        network = load_conditional_network(source)[0]
        own = self.model.generator.state_dict()
        matched = {
            name: weight
            for name, weight in network.generator.state_dict().items()
            if name in own and own[name].shape == weight.shape
        }
        if len(matched) * 2 < len(own):
            raise ParameterError(
                f"option init: {source!r} shares only {len(matched)} of {len(own)} generator "
                "tensors with this architecture (train with the same conv_dim, repeat_num, "
                "downsamplings, injection, output and upsampling)"
            )
        self.model.generator.load_state_dict(matched, strict=False)

    def _iteration(self) -> int:
        """Critic updates done so far (Adam's step count, restored with the checkpoint)."""
        state = self.optimizers["critic"].state.get(next(self.critic.parameters()), {})
        return int(state["step"]) if "step" in state else 0

    def _output_loss(self, predicted: torch.Tensor | None, logits: torch.Tensor) -> torch.Tensor:
        if predicted is None:
            return torch.zeros((), device=logits.device)
        return F.kl_div(
            predicted.log_softmax(1), logits.log_softmax(1), log_target=True, reduction="batchmean"
        )

    def step(self, batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> dict[str, float]:
        images = to_unit(batch[0])
        own = self.model.standardise(batch[1])
        logits = batch[2]
        order = torch.randperm(len(images), generator=generator, device=images.device)
        target, target_logits = own[order], logits[order]
        options = self.options
        iteration = self._iteration()

        code = self.model.code
        with torch.no_grad():
            fake = self.model.generator(images, code(target, own))
        real_score, real_features, real_outputs = self.critic(images)
        fake_score = self.critic(fake)[0]
        critic_feature = self.distance(real_features, own)
        critic_output = self._output_loss(real_outputs, logits)
        penalty = gradient_penalty(lambda x: self.critic(x)[0], images, fake, generator)
        critic_loss = (
            fake_score.mean()
            - real_score.mean()
            + options["lambda_cls"] * critic_feature
            + options["lambda_pred"] * critic_output
            + options["lambda_gp"] * penalty
        )
        self.optimizers["critic"].zero_grad(set_to_none=True)
        critic_loss.backward()
        self.optimizers["critic"].step()
        losses = {
            "d_wasserstein": float((real_score.mean() - fake_score.mean()).detach()),
            "d_feature": critic_feature.item(),
            "gp": penalty.item(),
        }
        if (iteration + 1) % options["n_critic"]:
            return losses

        fake = self.model.generator(images, code(target, own))
        score, predicted, outputs = self.critic(fake)
        feature_loss = self.distance(predicted, target)
        output_loss = self._output_loss(outputs, target_logits)
        reconstruction = (self.model.generator(fake, code(own, target)) - images).abs().mean()
        loss = (
            -score.mean()
            + options["lambda_rec"] * reconstruction
            + options["lambda_cls"] * feature_loss
            + options["lambda_pred"] * output_loss
        )
        if options["lambda_clf"]:
            real_features = features_and_logits(self.classifier, fake, self.layer)[0]
            classifier_loss = self.distance(self.model.standardise(real_features), target)
            loss = loss + options["lambda_clf"] * classifier_loss
            losses["g_classifier"] = classifier_loss.item()
        if options["lambda_tv"]:
            variation = total_variation(fake - images)
            loss = loss + options["lambda_tv"] * variation
            losses["g_tv"] = variation.item()
        if options["lambda_id"]:
            identity = (self.model.generator(images, code(own, own)) - images).abs().mean()
            loss = loss + options["lambda_id"] * identity
            losses["g_identity"] = identity.item()
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers["generator"].step()
        losses.update({"g_feature": feature_loss.item(), "g_rec": reconstruction.item()})
        return losses

    def samples(self) -> torch.Tensor:
        """Rows: real | pc1@10, 90 | pc2@10, 90 | reconstruction (6 x 6 tiles)."""
        images = to_unit(self.world.split("test")[0][:SAMPLE_ROWS].to(self.device))
        features = features_and_logits(self.classifier, images, self.layer)[0]
        components = [1, 2] if self.model.components.shape[0] > 1 else [1]
        _, targets = traversal_targets(self.model, features, components, [10, 90])
        edits = [self.model(images, target, features) for target in targets]
        return torch.stack([images, *edits], dim=1).flatten(0, 1)

    def evaluate(self) -> dict[str, float]:
        """Held-out metrics on the test split; the Frechet distances against the val split."""
        images = to_unit(_eval_split(self.world, self.config)[0])
        reference = to_unit(self.world.split("val")[0])
        return conditional_metrics(
            self.model, self.classifier, self.layer, images, reference=reference
        )

    def describe(self) -> dict[str, Any]:
        explained = self.model.explained
        total = float(self.model.standardise(self.train_arrays[1]).var(0, unbiased=False).sum())
        return {
            "world": self.world.name,
            "arch": self.arch,
            "options": self.options,
            "classifier": self.config.classifier,
            "feature_layer": self.layer,
            "labels": list(self.classifier.labels),
            "explained_variance_ratio": [round(float(v) / total, 4) for v in explained],
        }


TASKS["conditional"] = ConditionalTask
