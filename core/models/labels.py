"""Class-name lists available offline."""

from functools import cache

from timm.data import ImageNetInfo


@cache
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in index order, e.g. 281 -> ``"tabby, tabby cat"``."""
    info = ImageNetInfo()
    return tuple(info.index_to_description(index) for index in range(1000))
