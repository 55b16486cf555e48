"""The engine: COP, preprocessing, stance, validity, sway measures, trial aggregation. Pure:
no serial ports, Qt, click or files."""
