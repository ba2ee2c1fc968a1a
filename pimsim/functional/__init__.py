"""Functional (accuracy) model of the crossbar datapath: what a design point computes.

``kernel``: the numba bit-serial crossbar kernel and its numpy reference; ``cells``: how a
design stores integer weights and converts column sums; ``devices``: device
non-idealities; ``network``: a trace's network through the crossbars; ``accuracy``:
hardware vs software accuracy on held-out images, over Monte Carlo seeds.
docs/functional.md describes the model.
"""
