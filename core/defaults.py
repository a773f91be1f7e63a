"""Defaults every entry point shares (library, CLI, job kinds, Gradio, Streamlit), in one place.

No torch here, so help texts read them without importing model code.
"""

MODEL = "efficientnet_lite0"
"""The classifier used when none is named."""

EXPLAIN_METHOD = "fido-ssr-fast"
"""The saliency method of ``explain``, the explain job and the front ends: FIDO-SSR's fast
preset (about 14 s per 224 x 224 photo on 2 CPU cores; ``fido-ssr`` runs the full 300 steps)."""

INFILL = "local-mean"
"""The in-filler of mask methods and of every method's counterfactual views."""

LOGITS = "logits"
"""The layer name that means the class logits (feature visualization of classes)."""

VISUALIZE_METHODS = ("fourier", "pixel", "dgn", "class-agnostic")
"""Feature-visualization methods of ``run_visualization`` and the visualize job."""

VISUALIZE_METHOD = "fourier"

VISUALIZE_STEPS = {"fourier": 128, "pixel": 128, "dgn": 200, "class-agnostic": 200}
"""Optimisation steps per visualization method."""

PRIOR = "dcgan_faces"
"""The generator prior of DGN-AM."""

CLUSTERS = 3
"""Facets of class-agnostic visualization."""

TRAIN_STEPS = 2000
"""Optimisation steps of a training run."""

TRAIN_BATCH_SIZE = 128
"""Images per training step."""

TRAIN_LR = 2e-3
"""Peak learning rate of a training run (linear warm-up, cosine decay)."""

TRAVERSE = (1, 2, 3)
"""Principal components (1-based) a feature-editor traversal moves."""

QUANTILES = (10.0, 50.0, 90.0)
"""Training percentiles each traversed component is set to."""

PRECISIONS = ("fp32", "bf16")
"""Execution precisions: ``fp32`` (exact to 1e-4 of eager NCHW fp32) or ``bf16`` autocast."""

PRECISION = "fp32"
"""The precision a classifier runs in unless told otherwise."""

FORWARD_PIXELS = {"cpu": 16 * 224 * 224, "cuda": 256 * 224 * 224}
"""Input pixels (images x H x W) per forward pass on the heavy paths, per device type: on these
CPUs EfficientNet-Lite0 costs least per image at batch 8-16 of 224x224 (at 64 forward costs 1.2x
and forward + backward 2.2x per image: activations fall out of cache); GPUs want large batches."""
