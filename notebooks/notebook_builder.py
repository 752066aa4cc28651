"""What every `make_*_notebook.py` shares: collect cells, write the notebook, run it in quick mode.

    builder = NotebookBuilder(Path(__file__).parent / "go_move_prediction.ipynb")
    builder.md("# Title")
    builder.code("print(1)")
    builder.main(__doc__)   # --execute runs it with CONVSUITE_QUICK=1 and saves the outputs
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


class NotebookBuilder:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.cells: list[tuple[str, str]] = []

    def md(self, text: str) -> None:
        self.cells.append(("markdown", text.strip("\n")))

    def code(self, text: str) -> None:
        self.cells.append(("code", text.strip("\n")))

    def build(self) -> nbformat.NotebookNode:
        notebook = new_notebook()
        for index, (kind, source) in enumerate(self.cells):
            cell = new_markdown_cell(source) if kind == "markdown" else new_code_cell(source)
            cell["id"] = f"cell-{index:02d}"  # stable ids keep regenerated notebooks diff-friendly
            notebook.cells.append(cell)
        notebook.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "pygments_lexer": "ipython3", "file_extension": ".py",
                              "mimetype": "text/x-python", "codemirror_mode": {"name": "ipython", "version": 3},
                              "nbconvert_exporter": "python"},
        }
        return notebook

    @staticmethod
    def execute(notebook: nbformat.NotebookNode) -> float:
        """Run the notebook in quick mode in a temporary working directory; return its seconds."""
        from nbclient import NotebookClient

        os.environ["CONVSUITE_QUICK"] = "1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with tempfile.TemporaryDirectory(prefix="convsuite-nb-exec-") as cwd:
            start = time.perf_counter()
            NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
            return time.perf_counter() - start

    def main(self, description: str) -> None:
        parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--execute", action="store_true", help="run it in quick mode and save the outputs")
        args = parser.parse_args()
        notebook = self.build()
        nbformat.validate(notebook)
        if args.execute:
            print(f"executed in quick mode in {self.execute(notebook):.0f} s")
        nbformat.write(notebook, self.path)
        print(f"wrote {self.path}")
