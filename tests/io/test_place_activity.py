"""lib.io.place_activity: CSV, Parquet and Delta inputs, every row fault quarantined with its
line and reason, file faults named."""

from __future__ import annotations

import gzip

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.io.place_activity import PlaceActivityFormatError, read_place_activity

GOOD = """place,activity,year,value,place_name,activity_name,parent_activity
E12000001,10,2020,1500,North East,Manufacture of food products,C
E12000001,62,2020,300,North East,Computer programming,J
E12000007,62,2020,9000,London,Computer programming,J
E12000007,10,2020,700,London,Manufacture of food products,C
"""

BAD_LINES = {
    # line number in the file -> (text, reason starts with)
    2: ("E1,10,2020,5,,,", None),
    3: (",10,2020,5,,,", "place missing"),
    4: ("E1,,2020,5,,,", "activity missing"),
    5: ("E1,11,,5,,,", "year missing"),
    6: ("E1,12,20x0,5,,,", "year not an integer"),
    7: ("E1,13,1850,5,,,", "year outside 1962-2100"),
    8: ("E1,14,2020,,,,", "value missing"),
    9: ("E1,15,2020,abc,,,", "value not a number"),
    10: ("E1,16,2020,-3,,,", "value negative"),
    11: ("E1,17,2020,4,,,", "duplicate (year, place, activity), first at line 11"),
    12: ("E1,17,2020,6,,,", "duplicate (year, place, activity), first at line 11"),
    13: ("E1,18,2020,4,,", "wrong number of fields"),
    14: ('E2,"0011",2020,7,"Region, with comma",,', None),
    15: ("E2,19,2020,0,,,", None),  # zero is a value (no employment)
}


def _frames(table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The quarantine and the accepted rows, in file order."""
    quarantine = table.quarantine.toPandas().sort_values("line_number", ignore_index=True)
    accepted = table.rows.toPandas().sort_values(["source_file", "line_number"], ignore_index=True)
    return quarantine, accepted


def _write_bad_csv(path):
    lines = ["place,activity,year,value,place_name,activity_name,parent_activity"]
    lines += [BAD_LINES[n][0] for n in sorted(BAD_LINES)]
    path.write_text("\n".join(lines) + "\n")


def test_csv_quarantine_lines_and_reasons(spark, tmp_path):
    path = tmp_path / "employment.csv"
    _write_bad_csv(path)
    table = read_place_activity(spark, str(path))
    quarantine, accepted = _frames(table)
    expected_bad = {n: r for n, (_, r) in BAD_LINES.items() if r}
    got = {row.line_number: row.reason for row in quarantine.itertuples()}
    assert set(got) == set(expected_bad)
    for line, reason in expected_bad.items():
        assert got[line].startswith(reason), (line, got[line])
    assert (quarantine["source_file"] == str(path)).all()
    raw = dict(zip(quarantine.line_number, quarantine.raw_line, strict=True))
    assert raw[13] == BAD_LINES[13][0] and raw[9].startswith("E1,15,2020,abc")
    counts = table.counts
    assert counts["rows_read"] == len(BAD_LINES)
    assert counts["rows_accepted"] + counts["rows_quarantined"] == counts["rows_read"]
    rows = accepted.set_index("activity")
    assert list(accepted["activity"]) == ["10", "0011", "19"]  # leading zeros kept
    assert rows.loc["0011", "place_name"] == "Region, with comma"
    assert rows.loc["19", "value"] == 0.0 and accepted["year"].dtype == "int32"


def test_line_numbers_after_quoted_newlines_and_skipped_lines(spark, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "place,activity,year,value,place_name\n"
        'A,01,2020,1,"two\nlines"\n'  # lines 2-3
        "B,01,2020,1,x,extra\n"  # line 4: wrong field count
        "C,01,2020,-1,c\n"  # line 5
    )
    table = read_place_activity(spark, str(path))
    quarantine, _ = _frames(table)
    got = dict(zip(quarantine.line_number, quarantine.reason, strict=True))
    assert set(got) == {4, 5} and got[5] == "value negative"


@pytest.mark.parametrize("kind", ["parquet", "gzip", "delta"])
def test_other_formats(spark, tmp_path, kind):
    frame = pd.read_csv(pd.io.common.StringIO(GOOD), dtype=str)
    if kind == "parquet":
        path = tmp_path / "t.parquet"
        table = pa.Table.from_pandas(frame.assign(value=frame["value"].astype(float)))
        pq.write_table(table, path)
    elif kind == "gzip":
        path = tmp_path / "t.csv.gz"
        with gzip.open(path, "wt") as out:
            out.write(GOOD)
    else:
        from deltalake import write_deltalake

        path = tmp_path / "delta_table"
        write_deltalake(str(path), frame.assign(year=frame["year"].astype("int32")))
    table = read_place_activity(spark, str(path))
    _, accepted = _frames(table)
    assert table.counts == {"rows_read": 4, "rows_accepted": 4, "rows_quarantined": 0}
    assert sorted(accepted["place"].unique()) == ["E12000001", "E12000007"]
    assert accepted["value"].sum() == 11500


def test_file_faults_are_named(spark, tmp_path):
    with pytest.raises(PlaceActivityFormatError, match="no such file"):
        read_place_activity(spark, str(tmp_path / "absent.csv"))
    path = tmp_path / "t.csv"
    path.write_text("region,sic,year,employees\nA,01,2020,1\n")
    with pytest.raises(PlaceActivityFormatError, match=r"t\.csv: required column\(s\) place"):
        read_place_activity(spark, str(path))
    odd = tmp_path / "t.xlsx"
    odd.write_text("x")
    with pytest.raises(PlaceActivityFormatError, match="not a CSV"):
        read_place_activity(spark, str(odd))


def test_parquet_folder_rows_numbered_per_file(spark, tmp_path):
    """A folder of Parquet files: each quarantined row names its file and its row there (1 =
    the first row); a key given in two files quarantines both, naming the first."""
    folder = tmp_path / "folder"
    folder.mkdir()
    first = pd.DataFrame(
        {"place": ["A", "B", "C"], "activity": ["1", "1", "1"], "year": [2020, 2020, 2020]}
    ).assign(value=[1.0, -2.0, 3.0])
    second = pd.DataFrame(
        {"place": ["D", "C", "E"], "activity": ["1", "1", "1"], "year": [2020, 2020, 1850]}
    ).assign(value=[4.0, 5.0, 6.0])
    pq.write_table(pa.Table.from_pandas(first), folder / "part-1.parquet", row_group_size=2)
    pq.write_table(pa.Table.from_pandas(second), folder / "part-2.parquet", row_group_size=2)
    (folder / "_NOTE.md").write_text("not data")
    table = read_place_activity(spark, str(folder))
    quarantine, accepted = _frames(table)
    got = {
        (r.source_file.rsplit("/", 1)[-1], r.line_number): r.reason for r in quarantine.itertuples()
    }
    one = str(folder / "part-1.parquet")
    assert got == {
        ("part-1.parquet", 2): "value negative",
        ("part-1.parquet", 3): "duplicate (year, place, activity), first at line 3",
        ("part-2.parquet", 2): f"duplicate (year, place, activity), first at line 3 of {one}",
        ("part-2.parquet", 3): "year outside 1962-2100",
    }
    assert sorted(accepted["place"]) == ["A", "D"]
    assert table.counts == {"rows_read": 6, "rows_accepted": 2, "rows_quarantined": 4}


def test_delta_rows_numbered(spark, tmp_path):
    from deltalake import write_deltalake

    path = tmp_path / "delta_table"
    frame = pd.DataFrame(
        {"place": ["A", "B", None, "D"], "activity": ["01", "01", "01", "01"]}
    ).assign(year=pd.array([2020] * 4, "int32"), value=pd.array([1.0, 2.0, 3.0, None], "Float64"))
    write_deltalake(str(path), frame)
    quarantine, accepted = _frames(read_place_activity(spark, str(path)))
    assert dict(zip(quarantine.line_number, quarantine.reason, strict=True)) == {
        3: "place missing",
        4: "value missing",
    }
    assert list(accepted["activity"]) == ["01", "01"]
