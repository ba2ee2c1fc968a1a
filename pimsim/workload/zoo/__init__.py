"""Model zoo: our own PyTorch definitions of the networks pimsim ships traces for.

No torchvision (it is not installable offline here); shapes follow the original papers
and torchvision's definitions, so MAC counts match the published figures.

``ZOO`` maps a name to a builder returning ``(model, example_input)``; ``pimsim export
<name>`` and :func:`pimsim.workload.export.export_command` use it. Importing this
package needs torch.
"""

from __future__ import annotations

from typing import Callable

from pimsim.workload.zoo.cnn import digits_cnn
from pimsim.workload.zoo.mnsim import MNSIM_INPUT, mnsim_resnet18, mnsim_vgg16
from pimsim.workload.zoo.resnet import resnet18, resnet20, resnet50
from pimsim.workload.zoo.vgg import vgg16

CIFAR_INPUT = (3, 32, 32)
IMAGENET_INPUT = (3, 224, 224)
DIGITS_INPUT = (1, 8, 8)


def _builder(factory: Callable, input_shape: tuple[int, int, int], **kw) -> Callable:
    def build():
        import torch
        model = factory(**kw)
        return model, torch.zeros((1,) + input_shape)
    build.__doc__ = f"{factory.__name__} on a {input_shape} input."
    return build


#: name -> () -> (model, example_input with batch 1)
ZOO: dict[str, Callable] = {
    "cnn_digits": _builder(digits_cnn, DIGITS_INPUT),
    "resnet20": _builder(resnet20, CIFAR_INPUT, num_classes=10),
    "vgg16": _builder(vgg16, IMAGENET_INPUT, num_classes=1000),
    "resnet18": _builder(resnet18, IMAGENET_INPUT, num_classes=1000),
    "resnet50": _builder(resnet50, IMAGENET_INPUT, num_classes=1000),
    # MNSIM 2.0's own definitions at its hard-coded 32x32 input (docs/performance.md)
    "mnsim_resnet18": _builder(mnsim_resnet18, MNSIM_INPUT, num_classes=1000),
    "mnsim_vgg16": _builder(mnsim_vgg16, MNSIM_INPUT, num_classes=1000),
}

__all__ = ["ZOO", "digits_cnn", "mnsim_resnet18", "mnsim_vgg16", "resnet18", "resnet20",
           "resnet50", "vgg16"]


def _test_model():
    """A tiny ``module:function`` model spec target (used by tests and the docs)."""
    import torch
    return digits_cnn(), torch.zeros(1, *DIGITS_INPUT)
