"""The repository stands on its own: no file points outside it or at a host on the network."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE)
# Host names, by the top-level domains people write; the ones that collide with code
# (logger.info, tf.io, self.net) are left out, their URLs are caught by the scheme above.
HOST = re.compile(r"\bwww\.[a-z0-9-]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|edu|gov|uk)\b", re.IGNORECASE)
OUTSIDE = re.compile(r"\.\./shared\b|\bshared/(?:DESIGN|STYLE)\.md|\bshared/(?:data|hooks|tools)/")
PROSE = ("README.md", "RESULTS.md", "data/README.md", "docs/ARCHITECTURE.md", "docs/DATASETS.md")
# How the work was organised is no part of the project's own text.
ORGANISATION = re.compile(r"\bnot drawn\b|\bwas lent\b|\bnot lent\b|\bdevice tool\b|\bthis session\b|\bthis task\b",
                          re.IGNORECASE)


def repository_files() -> list[Path]:
    """Files of the repository: tracked, or new and not ignored (a fresh clone's content-to-be)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    return [ROOT / name for name in listing.split("\0") if name and (ROOT / name).is_file()]


def text_lines(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return  # binary files (archives, images) are not text anyone reads as a link
    for number, line in enumerate(text.splitlines(), 1):
        yield number, line


def offending_lines(pattern: re.Pattern, paths) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{number}: {match.group()}"
            for path in paths for number, line in text_lines(path) for match in pattern.finditer(line)]


def test_no_file_points_outside_the_repository():
    hits = offending_lines(OUTSIDE, repository_files())
    assert not hits, "files that point outside the repository:\n" + "\n".join(hits)


def test_no_file_names_a_url_or_a_host():
    hits = offending_lines(URL, repository_files()) + offending_lines(HOST, repository_files())
    assert not hits, "URLs or host names (cite publishers and names instead):\n" + "\n".join(hits)


def test_project_text_speaks_of_the_project_only():
    paths = [ROOT / name for name in PROSE if (ROOT / name).exists()]
    hits = offending_lines(ORGANISATION, paths)
    assert not hits, "\n".join(hits)


def test_the_checks_catch_what_they_look_for():
    # The examples are put together here so that this file does not match its own checks.
    scheme, host, outside = "https" + "://", "deb.debian" + ".org", ".." + "/shared"
    assert URL.search(f"see {scheme}example.invalid/x") and URL.search("file:" + "///opt/x")
    assert HOST.search(f"fetch it from {host}") and HOST.search("www" + ".example")
    assert not HOST.search("logger.info(x); tf.io.gfile; self.net; convsuite.common.data; Apache-2.0")
    assert OUTSIDE.search(f"{outside}/data/go/a.tar.gz") and OUTSIDE.search("see shared/" + "DESIGN.md")
    assert not OUTSIDE.search("shared machinery in common/")
    assert ORGANISATION.search("This task had no GPU (device status \"not drawn\")")
