"""Feature visualization: what makes a unit of a classifier fire.

Three families, one entry point each, all returning a :class:`FeatVizResult`:

* :func:`visualize`: activation maximization in pixel or Fourier space (Lucid-style).
* :func:`dgn_am`: activation maximization in a generator prior's code space (DGN-AM).
* :func:`class_agnostic`: one image per facet of a real image set (Stergiou et al.).

>>> from genlens.core.featviz import objectives as obj, visualize
>>> result = visualize(clf, obj.class_logit([1, 207]) - 1e-3 * obj.total_variation(), steps=64)
"""

from genlens.core.featviz import objectives
from genlens.core.featviz.class_agnostic import Facets, Octave, class_agnostic, find_facets
from genlens.core.featviz.dgn_am import CodeBounds, dgn_am, estimate_bounds, invert, sampled_bounds
from genlens.core.featviz.generator_prior import (
    DCGANFacePrior,
    GeneratorPrior,
    load_prior,
    register_prior,
    registered_priors,
)
from genlens.core.featviz.metrics import (
    LOGITS,
    ActivationRatio,
    activation_ratio,
    transferability,
    unit_activation_ratio,
    unit_responses,
)
from genlens.core.featviz.objectives import Objective, ObjectiveContext
from genlens.core.featviz.param import FourierImage, PixelImage, make_image
from genlens.core.featviz.render import visualize
from genlens.core.featviz.result import FeatVizResult
from genlens.core.featviz.sheet import contact_sheet
from genlens.core.featviz.transforms import RobustTransforms

__all__ = [
    "LOGITS",
    "ActivationRatio",
    "CodeBounds",
    "DCGANFacePrior",
    "Facets",
    "FeatVizResult",
    "FourierImage",
    "GeneratorPrior",
    "Objective",
    "ObjectiveContext",
    "Octave",
    "PixelImage",
    "RobustTransforms",
    "activation_ratio",
    "class_agnostic",
    "contact_sheet",
    "dgn_am",
    "estimate_bounds",
    "find_facets",
    "invert",
    "load_prior",
    "make_image",
    "objectives",
    "register_prior",
    "registered_priors",
    "sampled_bounds",
    "transferability",
    "unit_activation_ratio",
    "unit_responses",
    "visualize",
]
