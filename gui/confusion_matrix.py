"""A confusion matrix as a table: rows are true classes, columns predicted, shaded by rate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gui.qt import QtCore, QtGui, QtWidgets


class ConfusionMatrixTable(QtWidgets.QTableWidget):
    """Counts of a confusion matrix, each cell shaded by the fraction of its row."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)

    def set_matrix(self, classes: Sequence[str], matrix: np.ndarray) -> None:
        """Show ``matrix`` (n, n) of counts for ``classes``."""
        matrix = np.asarray(matrix, dtype=float)
        n = len(classes)
        self.setRowCount(n)
        self.setColumnCount(n)
        self.setHorizontalHeaderLabels([f"predicted {c}" for c in classes])
        self.setVerticalHeaderLabels([f"true {c}" for c in classes])
        rows = matrix.sum(axis=1, keepdims=True)
        rates = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
        for i in range(n):
            for j in range(n):
                item = QtWidgets.QTableWidgetItem(f"{int(matrix[i, j])}  ({rates[i, j]:.0%})")
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                shade = int(40 + 160 * rates[i, j])
                color = QtGui.QColor(30, shade, 60) if i == j else QtGui.QColor(shade, 40, 40)
                item.setBackground(color)
                item.setForeground(QtGui.QColor("#ffffff"))
                self.setItem(i, j, item)
