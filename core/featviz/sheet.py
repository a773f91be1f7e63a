"""Contact sheets: a labelled grid of visualizations as one PIL image."""

import math
from collections.abc import Sequence

import torch
from PIL import Image, ImageDraw, ImageFont

from genlens.core.data import to_pil
from genlens.core.errors import ParameterError


def contact_sheet(
    images: torch.Tensor,
    labels: Sequence[str],
    columns: int | None = None,
    tile: int = 224,
    caption_height: int = 30,
    margin: int = 4,
) -> Image.Image:
    """Grid of images (B, C, H, W) in [0, 1], each resized to ``tile`` px with a caption below.

    Captions may have two lines (split on newline). Returns an RGB image.
    """
    if images.ndim != 4 or images.shape[0] != len(labels):
        raise ParameterError(
            f"need (B, C, H, W) images and B labels, got {tuple(images.shape)}"
            f" and {len(labels)} labels"
        )
    count = images.shape[0]
    columns = columns or min(count, 4)
    rows = math.ceil(count / columns)
    cell_w, cell_h = tile + margin, tile + caption_height + margin
    sheet = Image.new("RGB", (columns * cell_w + margin, rows * cell_h + margin), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=11)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        row, col = divmod(index, columns)
        left, top = margin + col * cell_w, margin + row * cell_h
        thumbnail = to_pil(image).convert("RGB").resize((tile, tile), Image.Resampling.BICUBIC)
        sheet.paste(thumbnail, (left, top))
        draw.multiline_text((left + 2, top + tile + 2), label, fill="black", font=font, spacing=2)
    return sheet
