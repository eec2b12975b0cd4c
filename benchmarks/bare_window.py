"""The floor: a bare PySide6 window, to compare BackCoach's start-up and memory against.

It opens one empty QMainWindow titled "Bare window" and waits; the benchmark measures it
from outside exactly as it measures BackCoach.
"""

import sys

from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("Bare window")
window.resize(1366, 768)
window.show()
sys.exit(app.exec())
