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
