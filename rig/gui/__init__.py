"""The live view (pyqtgraph)."""
