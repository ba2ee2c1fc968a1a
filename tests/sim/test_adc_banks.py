"""Which crossbars share an ADC bank (pimsim.sim.adc_banks), layouts written out by hand."""

from pimsim.sim.adc_banks import CopyBanks, copy_banks


def test_one_crossbar_per_bank_every_bank_is_the_copys_own():
    assert copy_banks([100.0, 50.0], 3, 1) == [CopyBanks(100.0, [])] * 3


def test_a_copys_crossbars_fill_its_banks():
    # 2 crossbars per copy, banks of 2: crossbars (0, 1) and (2, 3): one bank per copy
    assert copy_banks([100.0, 100.0], 2, 2) == [CopyBanks(200.0, [])] * 2


def test_copies_of_one_crossbar_pair_up_and_an_odd_last_copy_is_alone():
    # crossbars 0 | 1 | 2 of copies 0, 1, 2: bank 0 = (0, 1) shared by copies 0 and 1;
    # bank 1 = (2, idle): copy 2's own
    assert copy_banks([100.0], 3, 2) == [CopyBanks(0.0, [(0, 100.0)]),
                                          CopyBanks(0.0, [(0, 100.0)]),
                                          CopyBanks(100.0, [])]


def test_banks_straddling_two_copies():
    # 3 crossbars per copy (100, 50, 30 ns per read), banks of 2 over numbers 0..5:
    # (0, 1) copy 0's own: 150; (2, 3) copy 0's 30 and copy 1's 100; (4, 5) copy 1's: 80
    a, b = copy_banks([100.0, 50.0, 30.0], 2, 2)
    assert a == CopyBanks(150.0, [(1, 30.0)])
    assert b == CopyBanks(80.0, [(1, 100.0)])
