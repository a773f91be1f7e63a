"""Image loading/validation, sample photos and datasets."""

from genlens.core.data.blockfashion import BlockFashion
from genlens.core.data.datasets import fashion_mnist, image_folder, mnist_5k, read_idx
from genlens.core.data.images import ImageLimits, load_image, pil_to_tensor, save_png, to_pil
from genlens.core.data.samples import image_label, resolve_image, sample_image, sample_names

__all__ = [
    "BlockFashion",
    "ImageLimits",
    "fashion_mnist",
    "image_folder",
    "image_label",
    "load_image",
    "mnist_5k",
    "pil_to_tensor",
    "read_idx",
    "resolve_image",
    "sample_image",
    "sample_names",
    "save_png",
    "to_pil",
]
