"""The trace reader: fast path equal to the careful one, bounded input, one-line refusals."""
import numpy as np
import pytest

from rig.errors import FileFormatError
from rig.io import traces
from tests.engine.signals import PDS_DIR


def both(path):
    fast = traces.read_trace(path)
    careful = traces._read_careful(str(path), traces._read_text(str(path)))
    for k in ("t_s", "cop_x_mm", "cop_y_mm"):
        np.testing.assert_array_equal(getattr(fast, k), getattr(careful, k))
    assert (fast.fz_n is None) == (careful.fz_n is None)
    if fast.fz_n is not None:
        np.testing.assert_array_equal(fast.fz_n, careful.fz_n)
    assert fast.format == careful.format and fast.comments == careful.comments
    return fast


@pytest.mark.parametrize("text", [
    "# board 7\n# fs 100\nt_s,cop_x_mm,cop_y_mm,fz_n\n0,1.5,2,700\n0.01,1.25,-2e-1,701\n",
    "t_s;extra;cop_y_mm;cop_x_mm\r\n0;a;1;2\r\n0.5;b;3;4\r\n",          # CRLF, text column, order
    "t_s\tcop_x_mm\tcop_y_mm\n0\t\t1\n1\tnan\t2\n2\t3\t4\n",              # empty COP: careful path
    "t_s,cop_x_mm,cop_y_mm\n0,1,2\n\n1,2,3\n# note\n2,3,4\n",             # blank line, late comment
])
def test_fast_path_equals_the_careful_reader(tmp_path, text):
    p = tmp_path / "t.csv"
    p.write_text(text)
    r = both(p)
    assert r.t_s.size == 3 or r.t_s.size == 2


def test_pds_file_fast_and_careful_agree():
    r = both(PDS_DIR / "PDS13OR1grf.txt")
    assert r.t_s.size == 6000 and r.format == "pds-grf"


def test_ragged_or_bad_rows_keep_their_line_numbers(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("t_s,cop_x_mm,cop_y_mm\n0,1,2\n1,2,3,4\n2,3\n")      # +1 and -1 field
    with pytest.raises(FileFormatError, match=r"line 3: 4 fields, the header \(line 1\) has 3"):
        traces.read_trace(p)
    p.write_text("t_s,cop_x_mm,cop_y_mm\n0,1,2\n1,x,3\n")
    with pytest.raises(FileFormatError, match=r"line 3, column cop_x_mm \(2\): 'x' is not a number"):
        traces.read_trace(p)
    p.write_text("t_s,cop_x_mm,cop_y_mm\n0,1,2\n2,2,3\n1,3,4\n")
    with pytest.raises(FileFormatError, match=r"line 4: t_s = 1 s is not after"):
        traces.read_trace(p)


def test_binary_and_oversized_inputs_are_refused_early(tmp_path):
    with pytest.raises(FileFormatError, match=r"/dev/zero: not a text file \(NUL byte at byte 0\)"):
        traces.read_trace("/dev/zero")                      # endless: refused at the first chunk
    p = tmp_path / "big.csv"
    p.write_text("t_s,cop_x_mm,cop_y_mm\n" + "".join(f"{i},1,2\n" for i in range(1000)))
    with pytest.raises(FileFormatError, match=r"larger than 0.00\d+ MiB"):
        traces.read_trace(p, max_bytes=1000)
    assert traces.read_trace(p).t_s.size == 1000
