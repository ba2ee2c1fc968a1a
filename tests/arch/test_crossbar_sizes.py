"""Changing the crossbar size is one number; dependent parts follow in the right direction."""

from pathlib import Path

import pytest

from pimsim.arch import build_arch, rollup
from pimsim.config import load_design

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SIZES = (64, 128, 256, 512)


@pytest.fixture(scope="module")
def points():
    out = {}
    for n in SIZES:
        name = "isaac.yaml" if n == 128 else f"isaac_xbar{n}.yaml"
        design = load_design(CONFIGS / name)
        out[n] = (design, rollup(build_arch(design)))
    return out


def increasing(values):
    return all(a < b for a, b in zip(values, values[1:]))


def test_adc_resolution_follows_rows(points):
    assert [points[n][0].adc.bits for n in SIZES] == [7, 8, 9, 10]


def test_registers_and_shift_add_grow(points):
    assert increasing([points[n][0].ima.input_register_bytes for n in SIZES])
    assert increasing([points[n][0].ima.output_register_bytes for n in SIZES])
    widths = [{r.role: r for r in points[n][1].rows}["shift_add"].area_mm2 for n in SIZES]
    assert increasing(widths)


def test_chip_area_and_power_grow_with_crossbar_size(points):
    assert increasing([points[n][1].chip_area_mm2 for n in SIZES])
    assert increasing([points[n][1].chip_power_mW for n in SIZES])


def test_peak_throughput_per_crossbar_grows(points):
    # More rows and columns per crossbar: more MACs per read cycle, but a longer ADC
    # conversion time (cols / 1.28 GS/s) stretches the cycle beyond 100 ns for cols > 128.
    assert increasing([points[n][1].peak_gops for n in SIZES])
    assert points[256][0].cycle_ns == pytest.approx(200.0)


# ---- docs/crossbar-sizes.md: "Every ratio quoted under 'Why they differ' is read off
# these tables" -- recomputed here from the page's generated block ----------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "crossbar-sizes.md"
DESIGNS = ("ISAAC-64", "ISAAC", "ISAAC-256", "ISAAC-512")


def _tables(text: str) -> dict[str, dict[str, dict[str, str]]]:
    """section heading -> metric -> design -> cell, from the generated block."""
    start = text.index("<!-- generated: crossbar-sizes -->")
    block = text[start:text.index("<!-- end generated -->", start)]
    out: dict = {}
    section = None
    for line in block.splitlines():
        if line.startswith("### "):
            section = out.setdefault(line[4:].strip(), {})
        elif line.startswith("|") and section is not None and "---" not in line:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[1:] != list(DESIGNS):
                section[cells[0]] = dict(zip(DESIGNS, cells[1:]))
    return out


def test_the_prose_ratios_are_those_of_the_generated_tables(points):
    text = DOC.read_text(encoding="utf-8")
    tables = _tables(text)
    prose = text[text.index("## Why they differ"):]

    def num(section, metric, design):
        return float(tables[section][metric][design].replace(",", ""))

    def r(section, metric, a, b="ISAAC"):
        return num(section, metric, a) / num(section, metric, b)

    pts = "design points"
    r20, r50 = "comparison on resnet20_cifar_shapes (fast)", "comparison on resnet50_shapes (fast)"
    thr, ce, en = "throughput (images/s)", "CE (GOPS/mm2)", "energy per image (uJ)"
    xb = "crossbars used"
    # ADC energy per conversion from the models (the table's cells are rounded to 4 digits)
    conv = [build_arch(points[n][0]).energy_pJ("adc", "convert") for n in SIZES]
    adc = [c / conv[1] for c in conv]
    claims = [
        f"{adc[0]:.2f}x, {adc[1]:.0f}x, {adc[2]:.2f}x and {adc[3]:.2f}x",
        f"of the tile's {tables[pts]['tile power (mW)']['ISAAC']} mW",
        f"{round(100 * (1 - r(r20, xb, 'ISAAC-256')))} % fewer crossbars "
        f"({tables[r20][xb]['ISAAC-256']} vs\n    {tables[r20][xb]['ISAAC']})",
        f"{round(100 * (1 - r(r20, en, 'ISAAC-256')))} % less energy per image",
        f"{r(r20, thr, 'ISAAC-256'):.2f}x ISAAC's throughput",
        f"{r(r20, ce, 'ISAAC-256'):.2f}x its CE",
        f"{r(r20, thr, 'ISAAC-512'):.2f}x the throughput and "
        f"{r(r20, ce, 'ISAAC-512'):.2f}x the CE",
        f"{r(r20, thr, 'ISAAC-64'):.2f}x the throughput, {r(r20, en, 'ISAAC-64'):.2f}x the energy",
        f"({num(r50, 'static (uJ)', 'ISAAC'):,.0f} uJ of ISAAC's {tables[r50][en]['ISAAC']} uJ",
        f"cut energy per image {1 / r(r50, en, 'ISAAC-256'):.2f}x and "
        f"{1 / r(r50, en, 'ISAAC-512'):.2f}x",
        f"raise throughput {r(r50, thr, 'ISAAC-256'):.2f}x and {r(r50, thr, 'ISAAC-512'):.2f}x",
        f"CE {r(r50, ce, 'ISAAC-256'):.2f}x and {r(r50, ce, 'ISAAC-512'):.2f}x",
        f"(static {round(num(r50, 'static (uJ)', 'ISAAC-64'))} uJ): "
        f"{r(r50, thr, 'ISAAC-64'):.2f}x ISAAC's throughput at {r(r50, en, 'ISAAC-64'):.2f}x "
        "the energy per image",
    ]
    stale = [c for c in claims if c not in prose]
    assert not stale, "docs/crossbar-sizes.md 'Why they differ' quotes ratios that are not " \
        "the generated tables': expected\n" + "\n".join(stale)
    # the prose's qualitative readings of the same rows
    assert tables[r20]["converged"]["ISAAC-512"] == "False"     # "had not converged"
    assert 0.45 <= r(r50, ce, "ISAAC-64") <= 0.55                 # "half the CE"
