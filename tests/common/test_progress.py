"""Progress: the whole run's ETA; a bar on a terminal, plain lines in a file."""

import io

from convsuite.common.progress import Progress, format_duration


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_durations_read_like_a_clock():
    assert [format_duration(s) for s in (0, 36, 327, 3725, None)] == ["0s", "36s", "5m27s", "1h02m", "?"]


def test_a_file_gets_plain_lines_only():
    stream = io.StringIO()
    progress = Progress(100, bar=True, stream=stream)
    for done in range(1, 51):
        progress.update(done, "working")
    progress.report("epoch 1/2", {"loss": 0.25}, done=50)
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert text.count("\n") == 1 and text.startswith("epoch 1/2  loss 0.2500  ")
    assert " elapsed " in text and " ETA " in text


def test_a_terminal_gets_a_bar_with_the_runs_eta():
    stream = Terminal()
    progress = Progress(10, bar=True, stream=stream, min_interval=0)
    progress.update(5, "epoch 1/2 5/5")
    assert stream.getvalue().startswith("\r[============............] epoch 1/2 5/5  run ETA ")
    progress.report("epoch 1/2", {}, done=5)
    assert stream.getvalue().endswith("\n") and "epoch 1/2  " in stream.getvalue().splitlines()[-1]


def test_the_eta_covers_the_steps_left_in_the_whole_run():
    progress = Progress(1000, done=100)
    assert progress.eta() is None  # nothing done by this process yet
    progress.started -= 10.0  # ten seconds for 100 steps
    progress.update(200)
    assert 75 < progress.eta() < 85  # 800 steps left at ~10 steps/s


def test_counter_bars_draw_only_on_a_terminal(capsys):
    import io

    from convsuite.common.progress import counter_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    for _ in counter_bar(range(3), desc="games", file=terminal):
        pass
    assert "games" in terminal.getvalue() and "\r" in terminal.getvalue()
    drawn = terminal.getvalue()
    for _ in counter_bar(range(3), desc="games"):  # captured stderr is not a terminal
        pass
    for _ in counter_bar(range(3), desc="games", file=terminal, enabled=False):
        pass
    assert capsys.readouterr().err == "" and terminal.getvalue() == drawn
