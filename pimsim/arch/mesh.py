"""The on-chip network's topology: a 2-D mesh of routers per chip, XY routing.

Layout (the concentrated mesh of ISAAC, Shafiee et al., ISCA 2016, Sec. 5: one router per
four tiles): tile ``t`` of a chip (``t = global tile % chip.tiles``) sends through router
``t // tile.tiles_per_router``; a chip has ``R = ceil(chip.tiles / tiles_per_router)``
routers placed in raster order on a grid ``W = ceil(sqrt(R))`` routers wide, router ``r``
at column ``x = r % W``, row ``y = r // W``. Neighbouring routers are joined by one
directed link each way. Router 0 of every chip is its I/O router, where the off-chip
links attach (the host's input and data from other chips enter there).

Routing is dimension-order XY (Dally & Towles, *Principles and Practices of
Interconnection Networks*, 2004, Sec. 14.1): along the row (x) first, then along the column
(y), deterministic, so a (sender tile, receiver tile) pair has one path. When ``R`` is not a
multiple of ``W`` the last grid row is partial; a transfer from that row to a column the row
lacks goes y first (YX), since its x leg would cross routers that do not exist. A transfer between tiles of different chips takes the sender chip's path to its
I/O router, the off-chip link, then the receiver chip's path from its I/O router.

Hop count: the **routers a transfer passes through**, i.e. the Manhattan distance between
the sender's and the receiver's routers plus one (the sender's router switches it even
when both tiles share that router); on another chip, both chips' counts added. A hop costs
one router traversal: ``router.transfer`` energy per bit and the router's latency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pimsim.config.schema import Design

#: link directions out of a router: +x, -x, +y, -y
EAST, WEST, SOUTH, NORTH = range(4)
_DIRS = ("+x", "-x", "+y", "-y")
IO_ROUTER = 0          # the router of a chip where its off-chip links attach


@dataclass(frozen=True)
class Mesh:
    """Router placement of one chip (every chip alike) and XY paths between tiles.

    A link is an int id ``(chip x routers + router) x 4 + direction`` (:meth:`link_name`
    spells it out); a path is a tuple of link ids in the order the data crosses them.
    """

    tiles_per_chip: int
    tiles_per_router: int

    @classmethod
    def of(cls, design: Design) -> "Mesh":
        return cls(design.chip.tiles, design.tile.tiles_per_router)

    @property
    def routers(self) -> int:
        """Routers per chip."""
        return -(-self.tiles_per_chip // self.tiles_per_router)

    @property
    def width(self) -> int:
        """Routers per grid row."""
        return math.isqrt(self.routers - 1) + 1       # ceil(sqrt(R))

    @property
    def links(self) -> int:
        """Directed links per chip (two between each pair of neighbouring routers)."""
        r, w = self.routers, self.width
        across = sum(1 for i in range(r) if i % w < w - 1 and i + 1 < r)
        down = max(0, r - w)
        return 2 * (across + down)

    def router_of(self, tile: int) -> int:
        """Router (within its chip) of a global tile index."""
        return (tile % self.tiles_per_chip) // self.tiles_per_router

    def chip_of(self, tile: int) -> int:
        return tile // self.tiles_per_chip

    def xy(self, router: int) -> tuple[int, int]:
        """(column, row) of a router on the grid."""
        return router % self.width, router // self.width

    def _route(self, chip: int, a: int, b: int) -> list[int]:
        """Links from router ``a`` to router ``b`` of ``chip``: x first, then y (y first
        when ``a`` is on a partial last grid row that lacks ``b``'s column)."""
        w = self.width
        (x, y), (x1, y1) = self.xy(a), self.xy(b)
        base = chip * self.routers
        out: list[int] = []

        def along_x():
            nonlocal x
            while x != x1:
                d = EAST if x1 > x else WEST
                out.append(((base + y * w + x) * 4) + d)
                x += 1 if d == EAST else -1

        def along_y():
            nonlocal y
            while y != y1:
                d = SOUTH if y1 > y else NORTH
                out.append(((base + y * w + x) * 4) + d)
                y += 1 if d == SOUTH else -1

        if y * w + x1 < self.routers:        # the row has the destination column: XY
            along_x()
            along_y()
        else:                                # a partial last row: YX
            along_y()
            along_x()
        return out

    def path(self, src_tile: int, dst_tile: int) -> tuple[int, ...]:
        """Directed links from the sender tile's router to the receiver tile's (XY)."""
        cs, cd = self.chip_of(src_tile), self.chip_of(dst_tile)
        rs, rd = self.router_of(src_tile), self.router_of(dst_tile)
        if cs == cd:
            return tuple(self._route(cs, rs, rd))
        return tuple(self._route(cs, rs, IO_ROUTER) + self._route(cd, IO_ROUTER, rd))

    def hops(self, src_tile: int, dst_tile: int) -> int:
        """Routers the transfer passes through (Manhattan distance + 1 per chip crossed)."""
        chips = 1 if self.chip_of(src_tile) == self.chip_of(dst_tile) else 2
        return len(self.path(src_tile, dst_tile)) + chips

    def entry_path(self, dst_tile: int) -> tuple[int, ...]:
        """Links from the I/O router of the receiver's chip to its router (data from the
        host or from another chip)."""
        return tuple(self._route(self.chip_of(dst_tile), IO_ROUTER, self.router_of(dst_tile)))

    def link_name(self, link: int) -> str:
        """``chip c (x,y)+x`` for a link id."""
        node, d = divmod(link, 4)
        chip, r = divmod(node, self.routers)
        x, y = self.xy(r)
        return f"chip {chip} ({x},{y}){_DIRS[d]}"
