"""Calibration: raw counts -> newtons per cell; the file, its checks, and the procedure.

Public API (docs/CONTRACTS.md): ``Calibration``, ``load_calibration``, ``calibration_for``,
``tare`` and the on-board blob helpers. The guided procedure lives in ``procedure`` and the
CLI in ``rig.cli.calibrate_cmd``.
"""
from rig.calibration.blob import BlobInfo, blob_warnings, decode_blob, encode_blob
from rig.calibration.model import Calibration
from rig.calibration.select import calibration_for, nominal_path
from rig.calibration.tomlio import load_calibration, loads_calibration


def tare(cal: Calibration, raw_window) -> Calibration:
    """``cal`` with offsets re-zeroed from ``raw_window`` (n, 4) raw counts of an empty board."""
    return cal.tare(raw_window)


__all__ = [
    "BlobInfo", "Calibration", "blob_warnings", "calibration_for", "decode_blob", "encode_blob",
    "load_calibration", "loads_calibration", "nominal_path", "tare",
]
