"""pyqtgraph windows: live classification and calibration sessions. Rendering only."""
