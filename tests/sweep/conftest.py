"""Small sweep files written into tmp_path, pointing at the repository's configs and traces."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
ISAAC = ROOT / "configs" / "isaac.yaml"
RESNET20 = ROOT / "traces" / "resnet20_cifar_shapes.npz"
VGG16 = ROOT / "traces" / "vgg16_shapes.npz"


def sweep_dict(**over) -> dict:
    """2 crossbar sizes x ADC (auto, 8, 9) on ResNet-20: 6 grid points, 1 skipped
    (256 rows need 9 bits), 4 unique evaluations (128/auto = 128/8 = ISAAC, the baseline)."""
    data = {"name": "mini", "base": str(ISAAC), "fidelity": "analytic",
            "axes": {"xbar": {"keys": ["crossbar.rows", "crossbar.cols"], "values": [128, 256]},
                     "adc.bits": ["auto", 8, 9], "trace": [str(RESNET20)]},
            "constraints": {"skip_invalid": True},
            "metrics": ["energy_pJ", "gops_per_W", "gops_per_mm2", "throughput_images_per_s"]}
    data.update(over)
    return data


@pytest.fixture
def write_sweep(tmp_path):
    def write(data: dict | None = None, name: str = "sweep.yaml", **over) -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data if data is not None else sweep_dict(**over),
                                        sort_keys=False))
        return path
    return write
