"""The set-up as the README gives it: two commands that CI runs as written, a script that names
no host and stops early, with one sentence, on a Python it cannot use. No network, no apt."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SETUP = ROOT / "scripts" / "setup.sh"
CI = ROOT / ".ci" / "run"
URL_OR_HOST = re.compile(r"[a-z][a-z0-9+.-]*://|\bwww\.|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|org|net|edu|gov|io|de|uk)\b",
                         re.IGNORECASE)


def readme_commands() -> list[str]:
    """The commands of the README's "Set-up: two commands" section, one per bash block."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    return [block.strip() for block in blocks[:2]]


def script_commands(path: Path) -> list[str]:
    """A shell script's lines that do something: no comments, no blank lines."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("path", [SETUP, CI], ids=["scripts/setup.sh", ".ci/run"])
def test_setup_scripts_name_no_url_or_host(path):
    hits = [line for line in path.read_text().splitlines() if URL_OR_HOST.search(line)]
    assert not hits, f"{path.name} names a URL or host: {hits}"


def test_readme_gives_two_commands_that_set_up_then_train_and_test():
    train, test = readme_commands()
    assert train == "bash scripts/setup.sh && .venv/bin/convsuite train image"
    assert test == "bash scripts/setup.sh && .venv/bin/python -m pytest -q"


def test_ci_runs_the_readme_test_command_as_written():
    _, test = readme_commands()
    assert script_commands(CI)[-1] == test


def test_setup_installs_into_the_project_venv_not_the_system_python():
    commands = script_commands(SETUP)
    installs = [line for line in commands if re.search(r"\bpip3? install", line)
                and not line.startswith(("die ", "say ", "warn ", "echo "))]
    assert installs and all(".venv/bin/python -m pip install" in line for line in installs), installs
    assert not any("--break-system-packages" in line or "--user" in line for line in commands)
    assert any('"$python" -m venv .venv' in line for line in commands)


def test_setup_is_valid_bash():
    check = subprocess.run(["bash", "-n", str(SETUP)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("version", ["3.9", "3.8"])
def test_setup_refuses_a_python_older_than_3_10_in_one_sentence_before_installing(tmp_path, version):
    fake = tmp_path / "python3"
    fake.write_text(f"#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python {version}.18' && exit 0\n"
                    f"exec {sys.executable} -c 'import sys; sys.exit(1)'\n")
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake), "HOME": str(tmp_path)})
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message.count("\n") == 0 and f"Python {version}.18" in message and ">= 3.10" in message, message
    assert "installing" not in result.stdout


def test_setup_names_the_missing_python_when_there_is_none(tmp_path):
    result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHON": str(tmp_path / "no-such-python"),
                                 "HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "no-such-python" in result.stderr and ">= 3.10" in result.stderr
