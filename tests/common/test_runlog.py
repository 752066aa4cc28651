"""Run logs: log.csv rows once each, TensorBoard scalars written without TensorFlow."""

from convsuite.common.runlog import CsvLog, ScalarLog, crc32c
from tests.requirements import require


def test_crc32c_matches_the_standard_check_value():
    assert crc32c(b"123456789") == 0xE3069283


def test_tensorboard_reads_the_scalars(tmp_path):
    accumulator = require("tensorboard.backend.event_processing.event_accumulator", "tf-cpu")
    log = ScalarLog(tmp_path, "epoch", validation_run=True, tag_prefix="epoch_")
    log.write({"epoch": 0, "loss": 1.5, "val_loss": 2.0})
    log.write({"epoch": 1, "loss": 1.0, "val_loss": 1.25})
    log.close()
    for run, expected in (("train", [1.5, 1.0]), ("validation", [2.0, 1.25])):
        events = accumulator.EventAccumulator(str(tmp_path / "tensorboard" / run))
        events.Reload()
        assert [(e.step, e.value) for e in events.Scalars("epoch_loss")] == list(zip([0, 1], expected))


def test_new_keys_widen_the_csv_and_truncate_drops_rows_from_a_step_on(tmp_path):
    log = CsvLog(tmp_path / "log.csv", "step")
    log.append({"step": 1, "loss": 0.5})
    log.append({"step": 2, "loss": 0.25, "return": 3})
    log.append({"step": 3, "loss": 0.125})
    assert (tmp_path / "log.csv").read_text().splitlines() == ["step,loss,return", "1,0.5,", "2,0.25,3", "3,0.125,"]
    log.truncate(before=3)
    assert [row["step"] for row in log.rows()] == ["1", "2"]
