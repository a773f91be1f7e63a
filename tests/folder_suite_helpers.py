"""A hand-made folder suite (Fashion-MNIST images and a shipped photo, PNG masks, VOC boxes)
whose pointing-game score for the ``centre`` map is computed by hand; shared by the runner, the
job and the browser tests."""

import json

import numpy as np
from PIL import Image

from genlens.core.data import fashion_mnist, sample_image

SIDE = 64
"""Stored image side; fmnist-cnn sees 32 x 32, so one model pixel is two image pixels and
TorchRay's 15 px tolerance is 7.5 model pixels. PIL's nearest 64 -> 32 takes image pixel
2i + 1 for model pixel i; the ``centre`` map peaks at model pixel (15, 15) (first of the four
tied centre pixels in raster order)."""


def voc(objects: list[tuple[str, tuple[int, int, int, int], bool]]) -> str:
    parts = [
        f"<object><name>{name}</name><difficult>{int(difficult)}</difficult><bndbox>"
        f"<xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        for name, (x0, y0, x1, y1), difficult in objects
    ]
    size = f"<size><width>{SIDE}</width><height>{SIDE}</height></size>"
    return f"<annotation>{size}{''.join(parts)}</annotation>"


def _mask(rows: slice, cols: slice) -> Image.Image:
    array = np.zeros((SIDE, SIDE), np.uint8)
    array[rows, cols] = 255
    return Image.fromarray(array)


def build_suite(root) -> dict[str, float]:
    """Six Fashion-MNIST test images and the shipped coffee photo (colour), all 64 x 64, with
    PNG masks, VOC boxes or nothing; returns the image count and the hand-computed pointing
    game of the ``centre`` map (the mean over classes of the hits per image with ground
    truth)."""
    root.mkdir()
    dataset = fashion_mnist("test")
    for index in range(6):
        image = dataset[index][0][0].mul(255).byte().numpy()
        Image.fromarray(image).resize((SIDE, SIDE), Image.BILINEAR).save(root / f"{index}.png")
    sample_image("coffee").resize((SIDE, SIDE), Image.BILINEAR).save(root / "coffee.jpg")
    # hit: own rows/cols 28..35 hold model pixels 14..17, the peak's (15, 15)
    _mask(slice(28, 36), slice(28, 36)).save(root / "near.png")
    # miss: own rows/cols 0..5 are model pixels 0..2, 18.4 model px from the peak
    _mask(slice(0, 6), slice(0, 6)).save(root / "far.png")
    # VOC corners are 1-based: xmin 45..xmax 50 = own cols 44..49 = model cols 22..24, rows
    # 28..33 = model rows 14..16: 7 model px from the peak, a hit within 7.5 (it would miss at
    # the built-in suites' 15 * 32 / 224 = 2.1 px); the difficult box on the peak is ignored
    (root / "seven.xml").write_text(
        voc([("Trouser", (45, 29, 50, 34), False), ("Trouser", (30, 30, 34, 34), True)])
    )
    # xmin 47..xmax 52 = own cols 46..51 = model cols 23..25: 8 model px, a miss; the other
    # class's box on the peak does not count
    (root / "eight.xml").write_text(
        voc([("Pullover", (47, 29, 52, 34), False), ("Trouser", (30, 30, 34, 34), False)])
    )
    (root / "difficult.xml").write_text(voc([("Trouser", (30, 30, 34, 34), True)]))
    rows = [
        {"image": "0.png", "label": "Trouser", "mask": "near.png"},
        {"image": "1.png", "label": "1", "mask": "far.png"},
        {"image": "2.png", "label": "Trouser", "boxes": "seven.xml"},
        {"image": "3.png", "label": "Pullover", "boxes": "eight.xml"},
        {"image": "4.png", "label": "Trouser", "boxes": "difficult.xml"},
        {"image": "5.png", "label": "0"},
        {"image": "coffee.jpg", "label": "Bag", "mask": "near.png"},
    ]
    (root / "manifest.json").write_text(json.dumps(rows))
    # Trouser (class 1): near hit, far miss, seven hit -> 2/3; Pullover (class 2): miss -> 0;
    # Bag (class 8): near hit -> 1
    return {"pointing_class_mean": (2 / 3 + 0 + 1) / 3, "with_truth": 5, "images": 7}
