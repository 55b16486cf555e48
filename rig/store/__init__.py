"""Recorded data: athletes, sessions, trials, measures (SQLite) and raw traces (files).

``Store.open(data_dir)`` is the entry point (docs/CONTRACTS.md, "Store and crash-safe
journal"); ``TrialRecorder`` journals a trial while it records (rig.store.journal);
``calibration_record`` turns a Calibration into what a session keeps of it.
"""
from rig.calibration.record import calibration_record
from rig.store.core import Store, condition_means
from rig.store.recorder import TrialRecorder

__all__ = ["Store", "TrialRecorder", "calibration_record", "condition_means"]
