"""Mapping: weights bit-sliced onto cells, im2col crossbar tiling, replication, placement."""

from pimsim.mapping.network_map import LayerMap, NetworkMap, map_network
from pimsim.mapping.tiling import Tiling, tile_layer

__all__ = ["LayerMap", "NetworkMap", "Tiling", "map_network", "tile_layer"]
