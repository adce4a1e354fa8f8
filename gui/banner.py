"""A coloured banner across the top of a window: stream trouble, or an error in words."""

from __future__ import annotations

from gui.qt import QtCore, QtWidgets

_STYLES = {
    "warning": "background:#8a5a00;color:white;font-weight:bold;padding:6px;",
    "error": "background:#9b1c1c;color:white;font-weight:bold;padding:6px;",
    "info": "background:#1f5f3a;color:white;padding:6px;",
}


class Banner(QtWidgets.QLabel):
    """Hidden until :meth:`show_message`; :meth:`clear_message` hides it again."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.severity = ""
        self.hide()

    def show_message(self, text: str, severity: str = "warning") -> None:
        """Show ``text`` with the colours of ``severity`` (warning, error or info)."""
        self.severity = severity
        self.setStyleSheet(_STYLES.get(severity, _STYLES["warning"]))
        self.setText(text)
        self.show()

    def clear_message(self) -> None:
        """Hide the banner."""
        self.severity = ""
        self.setText("")
        self.hide()

    @property
    def showing(self) -> bool:
        """True while a message is shown."""
        return not self.isHidden()
