"""Tiny classifiers for fast feature-visualization tests (not a test module)."""

from collections import OrderedDict

import torch
from torch import nn

from genlens.core.models import Classifier, Preprocessing


def tiny_classifier(
    channels: int = 3, size: int = 32, classes: int = 5, seed: int = 0
) -> Classifier:
    """A random 2-conv classifier with layers conv1, act1, conv2, act2, pool, flat, fc."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(channels, 8, 3, padding=1),
            act1=nn.ReLU(),
            conv2=nn.Conv2d(8, 16, 3, padding=1, stride=2),
            act2=nn.ReLU(),
            pool=nn.AdaptiveAvgPool2d(1),
            flat=nn.Flatten(),
            fc=nn.Linear(16, classes),
        )
    )
    preprocessing = Preprocessing((size, size), (0.5,) * channels, (0.25,) * channels, 1.0)
    return Classifier("tiny", net, preprocessing, [f"class{i}" for i in range(classes)])
