"""One place that imports Qt, configures pyqtgraph and creates the application."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

pg.setConfigOptions(antialias=False, background="#111318", foreground="#d8dbe2")

#: Colours of the classes, in probability-column order (colour-blind friendly).
CLASS_COLORS = (
    "#4c9be8",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#edc948",
    "#76b7b2",
    "#ff9da7",
)

__all__ = ["CLASS_COLORS", "QtCore", "QtGui", "QtWidgets", "app", "pg"]


def class_color(index: int) -> str:
    """The colour of class ``index``."""
    return CLASS_COLORS[index % len(CLASS_COLORS)]


def app() -> QtWidgets.QApplication:
    """Return the running QApplication, creating it if needed."""
    return pg.mkQApp("bci")
