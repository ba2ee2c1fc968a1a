"""The functional crossbar kernel: bit-serial column sums, ADC conversion, shift-and-add.

One call handles one weight group of one MVM layer. Inputs are unsigned integer codes
``x[P, R]`` (P input vectors, R crossbar rows over all row blocks); the cells are a matrix
``g[R, NC]`` of conductances in *level units* (one cell level step = 1; ideal cells hold
exact integers) over NC physical columns (weight columns x slices; a differential pair is
given as its difference). Rows are cut into crossbar row blocks of ``block_rows``.

For every input vector ``p``, row block ``b`` and DAC cycle ``j`` (``dac_bits`` input bits
per cycle, LSB first) the kernel forms each column's analog sum

    s[c] = sum_i d_ij * g[i, c] - g_off_sub * n_j           d_ij = (x[p, i] >> j*dac) & mask,
                                                            n_j  = sum_i d_ij (block rows)

adds read noise ``N(0, read_sigma^2 * sum_i d_ij^2 g[i, c]^2)`` and ADC noise, converts

    code = clip(rint(s / lsb + offset[b, c] + noise_lsb * N(0, 1)), lo, hi),  v = code * lsb

undoes ISAAC's flipped-column encoding where ``flip[b, c]`` (``v = levels_max * n_j - v``:
the column stores ``levels_max - level``), and shift-adds ``out[p, c] += v * 2**(j*dac)``.
A cycle whose input slice is zero on every row of the block is skipped (its sum is known
to be 0, so it is neither read nor converted).

Random numbers come from a counter-based hash of ``(seed, p, b, j, c)`` (SplitMix64 and
Box-Muller), so results do not depend on threads or on batching. ``crossbar_mvm`` is the
numba kernel (parallel over input vectors); ``crossbar_mvm_reference`` is the plain-numpy
reference it is tested against.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0
_READ_STREAM = 1
_ADC_STREAM = 2


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _normal(seed, p, b, j, c, stream):
    """Standard normal from the hash of (seed, p, b, j, c, stream) (SplitMix64, Box-Muller)."""
    h = _mix(np.uint64(seed) * _GOLDEN + np.uint64(stream))
    h = _mix(h ^ (np.uint64(p) * _GOLDEN))
    h = _mix(h ^ (np.uint64(b) * _M1 + np.uint64(j)))
    h1 = _mix(h ^ (np.uint64(c) * _M2))
    h2 = _mix(h1 + _GOLDEN)
    u1 = (float(h1 >> np.uint64(11)) + 1.0) * _TWO_M53
    u2 = float(h2 >> np.uint64(11)) * _TWO_M53
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def _mvm_range(x, g, flip, offset, block_rows, dac_bits, cycles, lsb, lo, hi, levels_max,
               g_off_sub, read_sigma, noise_lsb, seed, p0, p1, out):
    """Input vectors ``p0 <= p < p1`` of :func:`crossbar_mvm` (serial; one thread's chunk)."""
    rows = x.shape[1]
    ncols = g.shape[1]
    blocks = flip.shape[0]
    mask = (1 << dac_bits) - 1
    acc = np.zeros(ncols, g.dtype)
    acc2 = np.zeros(ncols, np.float64)
    noisy = read_sigma > 0.0 or noise_lsb > 0.0
    for p in range(p0, p1):
        for b in range(blocks):
            r0 = b * block_rows
            r1 = min(rows, r0 + block_rows)
            for j in range(cycles):
                shift = j * dac_bits
                cnt = 0
                acc[:] = 0
                for i in range(r0, r1):
                    d = (np.int64(x[p, i]) >> shift) & mask
                    if d == 1:
                        cnt += 1
                        for c in range(ncols):
                            acc[c] += g[i, c]
                    elif d != 0:
                        cnt += d
                        for c in range(ncols):
                            acc[c] += d * g[i, c]
                if cnt == 0:
                    continue
                acc2[:] = 0.0
                if read_sigma > 0.0:
                    for i in range(r0, r1):
                        d = (np.int64(x[p, i]) >> shift) & mask
                        if d != 0:
                            for c in range(ncols):
                                acc2[c] += (d * np.float64(g[i, c])) ** 2
                weight = float(1 << shift)
                if noisy:                 # kept apart: the noise calls slow the plain loop 10x
                    _noise(acc2, lsb, read_sigma, noise_lsb, seed, p, b, j)
                for c in range(ncols):
                    u = (acc[c] - g_off_sub * cnt) / lsb + offset[b, c]
                    if noisy:
                        u += acc2[c]
                    code = min(max(np.rint(u), lo), hi)
                    v = code * lsb
                    if flip[b, c]:
                        v = levels_max * cnt - v
                    out[p, c] += v * weight


@njit(cache=True)
def _noise(acc2, lsb, read_sigma, noise_lsb, seed, p, b, j):
    """Noise of one conversion per column, in LSB, written over ``acc2`` (which holds the
    read-noise variance sum_i (d_i g_i)^2 of each column on entry)."""
    for c in range(acc2.shape[0]):
        e = 0.0
        if read_sigma > 0.0:
            e += read_sigma * math.sqrt(acc2[c]) * _normal(seed, p, b, j, c, _READ_STREAM) / lsb
        if noise_lsb > 0.0:
            e += noise_lsb * _normal(seed, p, b, j, c, _ADC_STREAM)
        acc2[c] = e


CHUNK = 64
"""Input vectors per parallel work item."""


@njit(cache=True, parallel=True)
def crossbar_mvm(x, g, flip, offset, block_rows, dac_bits, cycles, lsb, lo, hi, levels_max,
                 g_off_sub, read_sigma, noise_lsb, seed):
    """Shift-added column values ``out[P, NC]`` (float64, level units x input units).

    x: (P, R) unsigned ints; g: (R, NC) float32/float64; flip: (B, NC) uint8;
    offset: (B, NC) float64 in LSB; B = ceil(R / block_rows). Parallel over chunks of
    input vectors (numba threads); each chunk runs the serial ``_mvm_range``.
    """
    n = x.shape[0]
    out = np.zeros((n, g.shape[1]), np.float64)
    chunks = (n + CHUNK - 1) // CHUNK
    for k in prange(chunks):
        _mvm_range(x, g, flip, offset, block_rows, dac_bits, cycles, lsb, lo, hi, levels_max,
                   g_off_sub, read_sigma, noise_lsb, seed, k * CHUNK, min(n, (k + 1) * CHUNK),
                   out)
    return out


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _normal_reference(seed: int, p: np.ndarray, b: int, j: int, c: np.ndarray,
                      stream: int) -> np.ndarray:
    """``_normal`` for a grid p[:, None] x c[None, :] (numpy, same hash)."""
    with np.errstate(over="ignore"):
        h = _mix_np(np.uint64(seed) * _GOLDEN + np.uint64(stream))
        h = _mix_np(h ^ (p.astype(np.uint64)[:, None] * _GOLDEN))
        h = _mix_np(h ^ (np.uint64(b) * _M1 + np.uint64(j)))
        h1 = _mix_np(h ^ (c.astype(np.uint64)[None, :] * _M2))
        h2 = _mix_np(h1 + _GOLDEN)
    u1 = ((h1 >> np.uint64(11)).astype(np.float64) + 1.0) * _TWO_M53
    u2 = (h2 >> np.uint64(11)).astype(np.float64) * _TWO_M53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def crossbar_mvm_reference(x, g, flip, offset, block_rows, dac_bits, cycles, lsb, lo, hi,
                           levels_max, g_off_sub, read_sigma, noise_lsb, seed) -> np.ndarray:
    """Plain-numpy reference of :func:`crossbar_mvm` (matrix products per block and cycle)."""
    x = np.asarray(x).astype(np.int64)
    n, rows = x.shape
    ncols = g.shape[1]
    out = np.zeros((n, ncols), np.float64)
    pidx, cidx = np.arange(n), np.arange(ncols)
    gd = np.asarray(g, np.float64)
    for b in range(flip.shape[0]):
        r0, r1 = b * block_rows, min(rows, (b + 1) * block_rows)
        for j in range(cycles):
            d = ((x[:, r0:r1] >> (j * dac_bits)) & ((1 << dac_bits) - 1)).astype(np.float64)
            cnt = d.sum(axis=1, keepdims=True)
            s = d @ gd[r0:r1] - g_off_sub * cnt
            if read_sigma > 0:
                s = s + read_sigma * np.sqrt((d ** 2) @ (gd[r0:r1] ** 2)) \
                    * _normal_reference(seed, pidx, b, j, cidx, _READ_STREAM)
            u = s / lsb + offset[b][None, :]
            if noise_lsb > 0:
                u = u + noise_lsb * _normal_reference(seed, pidx, b, j, cidx, _ADC_STREAM)
            v = np.clip(np.rint(u), lo, hi) * lsb
            v = np.where(flip[b][None, :] != 0, levels_max * cnt - v, v)
            v[cnt[:, 0] == 0] = 0.0
            out += v * float(1 << (j * dac_bits))
    return out
