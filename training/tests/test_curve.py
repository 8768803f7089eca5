import json

from hamburger_train.curve import markdown, thin, validation_rows


def test_validation_rows_keep_validated_steps_in_order_last_record_wins(tmp_path):
    log = tmp_path / "log.jsonl"
    recs = [
        {"step": 1, "t": 10.0, "loss": 3.0},
        {"step": 15, "t": 150.0, "lr_scale": 1.0, "val": {"loss": 2.9, "s1": 0.8}},
        {"step": 30, "t": 300.0, "lr_scale": 0.5, "val": {"loss": 2.7, "s1": 0.82}},
        {"step": 30, "t": 301.0, "lr_scale": 0.4, "val": {"loss": 2.6, "s1": 0.83}},
    ]
    log.write_text("\n".join(json.dumps(r) for r in recs) + "\n\n")
    rows = validation_rows(log)
    assert [r["step"] for r in rows] == [15, 30]
    assert rows[1]["loss"] == 2.6 and rows[1]["t"] == 301.0 and rows[1]["lr_scale"] == 0.4


def test_thin_keeps_first_and_last_and_the_table_has_a_row_each():
    rows = [{"step": i, "t": 3600.0 * i, "lr_scale": 1.0, "loss": 1.0 / (i + 1)} for i in range(7)]
    kept = thin(rows, 3)
    assert [r["step"] for r in kept] == [0, 3, 6]
    assert [r["step"] for r in thin(rows, 4)] == [0, 4, 6]
    table = markdown(kept).splitlines()
    assert len(table) == 2 + 3
    assert table[-1].startswith("| 6 | 6.00 | 1.00 |")
