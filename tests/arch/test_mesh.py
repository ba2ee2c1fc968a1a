"""The on-chip mesh: router placement, XY paths and hop counts, worked out by hand."""

from pimsim.arch.mesh import EAST, NORTH, SOUTH, WEST, Mesh

# 16 tiles per chip, 2 tiles per router: 8 routers on a ceil(sqrt(8)) = 3 wide grid
#   y=0:  r0 (0,0)  r1 (1,0)  r2 (2,0)
#   y=1:  r3 (0,1)  r4 (1,1)  r5 (2,1)
#   y=2:  r6 (0,2)  r7 (1,2)
MESH = Mesh(tiles_per_chip=16, tiles_per_router=2)


def link(chip, router, direction, routers=8):
    return (chip * routers + router) * 4 + direction


def test_router_placement():
    assert MESH.routers == 8 and MESH.width == 3
    assert [MESH.router_of(t) for t in (0, 1, 2, 5, 13, 15)] == [0, 0, 1, 2, 6, 7]
    assert MESH.xy(2) == (2, 0) and MESH.xy(4) == (1, 1) and MESH.xy(7) == (1, 2)
    # tile 21 is tile 5 of chip 1: router 2 of chip 1
    assert MESH.chip_of(21) == 1 and MESH.router_of(21) == 2


def test_xy_path_goes_along_x_then_y():
    # tile 5 (r2 at (2,0)) -> tile 14 (r7 at (1,2)): -x to (1,0), then +y, +y
    assert MESH.path(5, 14) == (link(0, 2, WEST), link(0, 1, SOUTH), link(0, 4, SOUTH))
    assert MESH.hops(5, 14) == 4                 # |2-1| + |0-2| = 3 links, 4 routers
    assert MESH.path(14, 13) == (link(0, 7, WEST),)          # (1,2) -> (0,2)
    assert MESH.path(13, 1) == (link(0, 6, NORTH), link(0, 3, NORTH))   # (0,2) -> (0,0)


def test_partial_last_row_goes_y_first():
    # tile 14 (r7 at (1,2)) -> tile 5 (r2 at (2,0)): x first would enter (2,2), which is no
    # router (row 2 holds r6, r7 only), so the path goes up column 1 first, then +x
    assert MESH.path(14, 5) == (link(0, 7, NORTH), link(0, 4, NORTH), link(0, 1, EAST))
    assert MESH.hops(14, 5) == 4


def test_same_router_is_one_hop_and_no_link():
    assert MESH.path(0, 1) == ()
    assert MESH.hops(0, 1) == 1
    assert MESH.hops(3, 3) == 1


def test_other_chip_goes_through_both_io_routers():
    # tile 5 (chip 0, r2) -> tile 19 (chip 1, local tile 3 -> r1): r2 -> r0 on chip 0, then
    # r0 -> r1 on chip 1; routers passed: 3 on chip 0 + 2 on chip 1
    assert MESH.path(5, 19) == (link(0, 2, WEST), link(0, 1, WEST), link(1, 0, EAST))
    assert MESH.hops(5, 19) == 5
    assert MESH.entry_path(19) == (link(1, 0, EAST),)


def test_directed_links_per_chip():
    # neighbours: rows 0 and 1 have 2 pairs each, row 2 one (r6-r7); columns: r0-r3,
    # r1-r4, r2-r5, r3-r6, r4-r7: 10 pairs, 20 directed links
    assert MESH.links == 20
    # ISAAC: 168 tiles, 4 per router: 42 routers on a 7-wide grid (6 rows): 6 x 6 pairs
    # across, 35 down
    isaac = Mesh(168, 4)
    assert (isaac.routers, isaac.width, isaac.links) == (42, 7, 2 * (36 + 35))


def test_link_names():
    assert MESH.link_name(link(0, 2, WEST)) == "chip 0 (2,0)-x"
    assert MESH.link_name(link(1, 4, SOUTH)) == "chip 1 (1,1)+y"
