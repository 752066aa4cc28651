"""Every notebook runs top to bottom in quick mode (CONVSUITE_QUICK=1), plots included."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook_per_suite_result():
    for suite in ("image_", "timeseries_", "go_", "checkers_", "atari_", "text_", "video_", "drug_"):
        assert any(path.name.startswith(suite) for path in NOTEBOOKS), suite


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVSUITE_QUICK", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
              if "image/png" in output.get("data", {})]
    assert len(images) >= 4  # samples, learning curves, confusion matrix, saliency, MCDNN comparison
