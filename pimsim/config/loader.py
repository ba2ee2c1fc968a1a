"""Load a design point: read YAML, follow ``extends:``, merge, validate, fill 'auto'.

Every user mistake raises :class:`pimsim.errors.ConfigError` naming the file, the key
path, what was found and what was expected (with a did-you-mean for unknown keys).
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

from pimsim.config import schema
from pimsim.config.ranges import check_range, finite_number
from pimsim.config.schema import AUTO, Design
from pimsim.errors import ConfigError
from pimsim.plugins import import_user_module
from pimsim.units import BITS_PER_BYTE, ceil_log2, is_power_of_two
from pimsim.yamlio import file_kind, load_yaml_file

MAX_EXTENDS_DEPTH = 16


def suggest(word: Any, options) -> str:
    """' (did you mean 'x'?)' for the closest option, or ''. Only a short text is compared:
    a list or mapping (maybe an expanded alias) is never turned into text here."""
    if not isinstance(word, str) or len(word) > 200:
        return ""
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def read_yaml(path: Path) -> dict:
    """Parse one YAML file into a mapping (pimsim.yamlio's hardened reader)."""
    data = load_yaml_file(path, error=ConfigError)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("a design point must be a YAML mapping", file=path,
                          found=type(data).__name__, expected="key: value pairs")
    return data


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``; nested mappings merge, everything else replaces.

    A component table that names a different ``model`` replaces its base entry whole:
    reference values of one model mean nothing to another.
    """
    out = dict(base)
    for key, value in over.items():
        replaces = isinstance(value, dict) and "model" in value and isinstance(out.get(key), dict) \
            and out[key].get("model") != value["model"]
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not replaces:
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_raw(path: str | Path, _seen: tuple = ()) -> tuple[dict, dict[str, Path]]:
    """Read ``path`` and its ``extends:`` chain; return merged data and key -> defining file."""
    path = Path(path)
    resolved = path.resolve()
    if resolved in _seen:
        raise ConfigError("'extends' forms a cycle", file=path, where="extends",
                          found=" -> ".join(str(p) for p in _seen + (resolved,)))
    if len(_seen) >= MAX_EXTENDS_DEPTH:
        raise ConfigError("'extends' chain too deep", file=path, where="extends",
                          expected=f"at most {MAX_EXTENDS_DEPTH} levels")
    data = read_yaml(path)
    origin = {key: path for key in data}
    parent = data.pop("extends", None)
    if parent is None:
        return data, origin
    if not isinstance(parent, str):
        raise ConfigError("'extends' must be a path", file=path, where="extends", found=parent,
                          expected="a relative path such as isaac.yaml")
    base_path = (path.parent / parent)
    problem = file_kind(base_path)
    if problem is not None:
        raise ConfigError(f"'extends' names {problem}", file=path, where="extends",
                          found=parent, expected="a design point YAML file")
    base, base_origin = load_raw(base_path, _seen + (resolved,))
    merged = deep_merge(base, data)
    base_origin.update({k: path for k in data})
    return merged, base_origin


def _check_value(value: Any, fld: dataclasses.Field, file: Path, where: str) -> Any:
    meta = fld.metadata
    expected_type = type(fld.default)
    if meta.get("auto") and value == AUTO:
        return value
    if meta.get("auto"):      # a number: real when its default or its lower limit is
        lo = (meta.get("limits") or (0,))[0]
        expected_type = float if isinstance(fld.default, float) or isinstance(lo, float) else int
    if meta.get("choices"):
        if value not in meta["choices"]:
            raise ConfigError("unknown value" + suggest(value, meta["choices"]), file=file,
                              where=where, found=value, expected=" or ".join(meta["choices"]))
        return value
    if expected_type is bool:
        if not isinstance(value, bool):
            raise ConfigError("wrong type", file=file, where=where, found=value,
                              expected="true or false")
        return value
    if expected_type is str:
        if not isinstance(value, str):
            raise ConfigError("wrong type", file=file, where=where, found=value, expected="a string")
        return value
    numeric_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected_type is int and not (isinstance(value, int) and not isinstance(value, bool)):
        if numeric_ok and float(value).is_integer():
            value = int(value)
        else:
            hint = " or 'auto'" if meta.get("auto") else ""
            raise ConfigError("wrong type", file=file, where=where, found=value,
                              expected=f"an integer ({meta['unit']}){hint}")
    if expected_type is float:
        if not numeric_ok:
            raise ConfigError("wrong type", file=file, where=where, found=value,
                              expected=f"a number ({meta['unit']})")
        if not finite_number(value):
            raise ConfigError("not a finite number", file=file, where=where, found=value)
        value = float(value)
    check_range(value, unit=meta["unit"], file=file, where=where, limits=meta.get("limits"),
                typical=meta.get("typical"), positive=meta.get("positive", True))
    if meta.get("pow2") and not is_power_of_two(int(value)):
        raise ConfigError("must be a power of two", file=file, where=where, found=value,
                          expected="1, 2, 4, 8, ... " + meta["unit"])
    return value


def _build_section(name: str, cls: type, data: Any, origin: Path) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("section must be a mapping", file=origin, where=name,
                          found=type(data).__name__, expected="key: value pairs")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise ConfigError(f"unknown key '{key}'" + suggest(key, fields), file=origin,
                              where=f"{name}.{key}", expected="one of " + ", ".join(fields))
    values = {key: _check_value(data.get(key, fld.default), fld, origin, f"{name}.{key}")
              for key, fld in fields.items()}
    return cls(**values)


def required_adc_bits(rows: int, dac_bits: int, bits_per_cell: int, encoding: bool) -> int:
    """ISAAC's rule (Shafiee et al. 2016, Sec. V): A = log2(R) + v + w, minus 1 when v = 1
    or w = 1; the flipped-column encoding saves one more bit."""
    bits = ceil_log2(rows) + dac_bits + bits_per_cell
    if dac_bits == 1 or bits_per_cell == 1:
        bits -= 1
    if encoding:
        bits -= 1
    return bits


def sar_sample_rate_GSps(bits: int, adc_table: dict) -> float:
    """SAR law: one conversion takes ``bits`` bit-cycles (one comparison per bit; Kull et al.,
    ISSCC 2013), the bit-cycle being the ADC table's ``1 / (ref_sample_rate x ref_bits)``."""
    ref_rate = float(adc_table.get("ref_sample_rate_GSps", 1.28))
    ref_bits = float(adc_table.get("ref_bits", 8))
    return ref_rate * ref_bits / bits


def _resolve(design: Design, origin: dict[str, Path]) -> Design:
    """Fill 'auto' values and check combinations of keys."""
    p, xb, dac, adc, ima = design.precision, design.crossbar, design.dac, design.adc, design.ima

    def err(msg: str, section: str, key: str, **kw):
        return ConfigError(msg, file=origin.get(section, design.source), where=f"{section}.{key}", **kw)

    if p.weight_bits % xb.bits_per_cell:
        raise err("weight bits are not divisible by bits per cell", "precision", "weight_bits",
                  found=f"{p.weight_bits} weight bits, {xb.bits_per_cell} bits/cell",
                  expected="weight_bits a multiple of crossbar.bits_per_cell")
    if p.input_bits % dac.bits:
        raise err("input bits are not divisible by DAC bits", "dac", "bits",
                  found=f"{p.input_bits} input bits, {dac.bits}-bit DAC",
                  expected="precision.input_bits a multiple of dac.bits")
    cells = p.weight_bits // xb.bits_per_cell
    if p.signed_weights in ("differential", "differential_both"):
        cells *= 2
    if cells > xb.cols:
        raise err("one weight needs more columns than a crossbar has", "crossbar", "cols",
                  found=f"{cells} cells per weight, {xb.cols} columns",
                  expected="cols >= weight_bits / bits_per_cell")
    if xb.cols % adc.per_crossbar:
        raise err("columns cannot be shared evenly by the ADCs", "adc", "per_crossbar",
                  found=adc.per_crossbar, expected=f"a divisor of crossbar.cols = {xb.cols}")
    if ima.crossbars % adc.shared_by:
        raise err("crossbars cannot share ADC banks evenly", "adc", "shared_by",
                  found=adc.shared_by, expected=f"a divisor of ima.crossbars = {ima.crossbars}")
    ou_rows = xb.rows if xb.ou_rows == AUTO else xb.ou_rows
    ou_cols = xb.cols if xb.ou_cols == AUTO else xb.ou_cols
    for key, value, limit in (("ou_rows", ou_rows, xb.rows), ("ou_cols", ou_cols, xb.cols)):
        if value > limit:
            raise err("an operation unit larger than the crossbar", "crossbar", key, found=value,
                      expected=f"at most crossbar.{key[3:]} = {limit} (or 'auto')")
    xb = dataclasses.replace(xb, ou_rows=ou_rows, ou_cols=ou_cols)
    # lossless for the rows summed in one conversion: the OU's (ISAAC's rule). Fewer bits
    # only with a stated clipping mode (adc.clip); their accuracy cost is not modelled.
    need = required_adc_bits(ou_rows, dac.bits, xb.bits_per_cell, adc.encoding)
    if adc.bits == AUTO:
        adc = dataclasses.replace(adc, bits=need)
    elif adc.bits < need and adc.clip == "none":
        raise err("ADC resolution too low for the crossbar", "adc", "bits", found=adc.bits,
                  expected=f">= {need} bits for {ou_rows}-row reads, {dac.bits}-bit DAC, "
                           f"{xb.bits_per_cell} bits/cell (ISAAC's rule; set 'auto'), or "
                           "adc.clip: saturate to accept clipping")
    if adc.sample_rate_GSps == AUTO:
        adc = dataclasses.replace(adc, sample_rate_GSps=sar_sample_rate_GSps(
            adc.bits, design.components.get("adc", {})))
    for key in ("input_one_fraction", "cell_level_fraction"):
        if getattr(design.activity, key) > 1:
            raise err("a fraction above 1", "activity", key, found=getattr(design.activity, key),
                      expected="a value in [0, 1]")
    weights_per_row = xb.cols // cells
    if ima.input_register_bytes == AUTO:
        ima = dataclasses.replace(ima, input_register_bytes=ima.crossbars * xb.rows * p.input_bits
                                  // BITS_PER_BYTE)
    if ima.output_register_bytes == AUTO:
        ima = dataclasses.replace(ima, output_register_bytes=ima.crossbars * weights_per_row
                                  * p.output_bits // BITS_PER_BYTE)
    nonideal = design.nonideal
    if nonideal.adc_bits == AUTO:
        nonideal = dataclasses.replace(nonideal, adc_bits=adc.bits)
    if nonideal.stuck_off_rate + nonideal.stuck_on_rate > 1:
        raise err("stuck-at fault rates add up to more than 1", "nonideal", "stuck_on_rate",
                  found=f"{nonideal.stuck_off_rate} + {nonideal.stuck_on_rate}",
                  expected="stuck_off_rate + stuck_on_rate <= 1 (fractions of cells)")
    if nonideal.g_off_frac >= 1:
        raise err("G_off must be below G_on", "nonideal", "g_off_frac", found=nonideal.g_off_frac,
                  expected="0 <= g_off_frac < 1 (1 / on-off ratio)")
    noc = design.noc
    if noc.mesh_link_GBps == AUTO:
        noc = dataclasses.replace(noc, mesh_link_GBps=design.tile.tiles_per_router * noc.link_GBps)
    return dataclasses.replace(design, crossbar=xb, adc=adc, ima=ima, nonideal=nonideal, noc=noc)


def _check_components(table: Any, origin: Path, design_source: str) -> dict:
    # Imported here: components import the schema, not the other way round.
    from pimsim.components import registry

    if not isinstance(table, dict) or not table:
        raise ConfigError("'components' must map each role to a model table", file=origin,
                          where="components", found=table)
    missing = [role for role in registry.REQUIRED_ROLES if role not in table]
    if missing:
        raise ConfigError("component roles missing", file=origin, where="components",
                          found=", ".join(missing), expected="an entry for each of "
                          + ", ".join(registry.REQUIRED_ROLES))
    out = {}
    for role, entry in table.items():
        where = f"components.{role}"
        if not isinstance(role, str):
            raise ConfigError("a component role must be a name", file=origin, where=where)
        if not isinstance(entry, dict) or "model" not in entry:
            raise ConfigError("a component entry needs a 'model'", file=origin, where=where,
                              found=entry, expected="{model: NAME, ...reference values}")
        cls = registry.lookup(entry["model"], file=origin, where=f"{where}.model")
        if role not in registry.REQUIRED_ROLES + registry.DIGITAL_ROLES:
            _check_plugin_role(role, entry, cls, origin)
        out[role] = cls.check_table(entry, file=origin, where=where)
    return out


def _check_plugin_role(role: str, entry: dict, cls: type, origin: Path) -> None:
    """A role pimsim does not place itself must say where it sits; a typo must not pass as one."""
    from pimsim.components.registry import REQUIRED_ROLES

    where = f"components.{role}"
    hint = suggest(role, REQUIRED_ROLES)
    if "level" not in entry:
        raise ConfigError(f"unknown component role '{role}'{hint}", file=origin, where=where,
                          expected="a known role, or a plug-in role that declares 'level: ima|tile|chip'"
                                   " and 'count'")
    if cls.INSTANCE:
        raise ConfigError(f"model '{cls.model}' needs parameters only a built-in role provides"
                          f" ({', '.join(cls.INSTANCE)}){hint}", file=origin, where=where,
                          expected="a plug-in role to use a model without instance parameters")
    level, count = entry["level"], entry.get("count", 1)
    if level not in ("ima", "tile", "chip"):
        raise ConfigError("unknown level", file=origin, where=f"{where}.level", found=level,
                          expected="ima, tile or chip")
    if not finite_number(count) or count <= 0:
        raise ConfigError("must be a positive number", file=origin, where=f"{where}.count",
                          found=count, expected="units per level")


def apply_overrides(data: dict, origin: dict, overrides: dict[str, Any], path: Path) -> dict:
    """Set dotted key paths (``{"crossbar.rows": 256}``) on top of the merged YAML data."""
    data = dict(data)
    for dotted, value in overrides.items():
        keys = str(dotted).split(".")
        node = data
        for depth, key in enumerate(keys[:-1]):
            child = node.get(key)
            if child is None:
                child = {}
            elif not isinstance(child, dict):
                raise ConfigError("override goes through a non-mapping key", file=path,
                                  where=".".join(keys[:depth + 1]), found=child)
            node[key] = child = dict(child)
            node = child
        node[keys[-1]] = value
        origin[keys[0]] = Path(f"{path} (override {dotted}={value!r})")
    return data


def load_design(path: str | Path, overrides: dict[str, Any] | None = None) -> Design:
    """Read, merge, validate and resolve a design point YAML file.

    ``overrides`` maps dotted key paths to values applied last (sweeps use this); errors
    in them name the file and the override.
    """
    path = Path(path)
    data, origin = load_raw(path)
    if overrides:
        data = apply_overrides(data, origin, overrides, path)
    known = set(schema.SECTIONS) | set(schema.TOP_LEVEL)
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown key '{key}'" + suggest(key, known), file=origin[key],
                              where=key, expected="one of " + ", ".join(sorted(known)))
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError("must be text", file=origin[key], where=key,
                              found=type(data[key]).__name__, expected="a string")
    plugins = data.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(m, str) for m in plugins):
        raise ConfigError("must be a list of module names", file=origin.get("plugins", path),
                          where="plugins", found=plugins, expected="e.g. [mypackage.components]")
    # Importing a plugin runs its code: a design point is trusted like a Python script.
    # Searched beside the design point that lists them, then in the working directory
    # (pimsim.plugins), then on sys.path.
    for module in plugins:
        try:
            import_user_module(module, [Path(origin["plugins"]).parent])
        except ImportError as exc:
            raise ConfigError(f"cannot import plugin module: {exc}", file=origin["plugins"],
                              where="plugins", found=module,
                              expected="a module beside the design point, in the working "
                                       "directory or installed") from None
    sections = {name: _build_section(name, cls, data.get(name), origin.get(name, path))
                for name, cls in schema.SECTIONS.items()}
    name = data.get("name", path.stem)
    clock = data.get("clock_GHz", 1.2)
    tech = data.get("technology_nm", 32)
    for key, value in (("clock_GHz", clock), ("technology_nm", tech)):
        limits, typical = schema.TOP_LEVEL_RANGES[key]
        check_range(value, unit=schema.TOP_LEVEL[key][0], file=origin.get(key, path), where=key,
                    limits=limits, typical=typical, positive=True)
    if "components" not in data:
        raise ConfigError("no 'components' table", file=path, where="components",
                          expected="a table of component models (extend configs/isaac.yaml)")
    components = _check_components(data["components"], origin["components"], str(path))
    design = Design(name=str(name), source=str(path), technology_nm=float(tech),
                    clock_GHz=float(clock), components=components,
                    description=str(data.get("description", "")), **sections)
    return _resolve(design, origin)
