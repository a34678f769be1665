"""Parsing BACI files as CEPII ships them: real extracts in tests/data and crafted faults."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from lib.io.baci import (
    PARSED_SCHEMA,
    BaciFormatError,
    FlowFile,
    SourceFile,
    discover_release,
    parse_flow_file,
    read_country_codes,
    read_product_codes,
)
from lib.io.filesystems import arrow_uri
from tests.conftest import data_path

SAMPLE = ("baci_hs17_y2020_sample",)
CODES_2024 = ("baci_v202401_codes",)


def parse_all(flow: FlowFile, country_codes, product_codes, **options) -> pa.Table:
    return pa.Table.from_batches(
        list(parse_flow_file(flow, country_codes, pa.array(product_codes), **options)),
        schema=PARSED_SCHEMA,
    )


def test_real_country_codes_old_layout_latin1():
    path = data_path(*SAMPLE, "country_codes_V202201.csv")
    codes = read_country_codes(SourceFile(str(path)))
    assert len(codes) == 238
    assert codes.columns.tolist() == ["country_code", "country_name", "iso2", "iso3"]
    by_code = codes.set_index("country_code")
    assert by_code.loc[251, "iso3"] == "FRA" and by_code.loc[842, "iso3"] == "USA"
    assert by_code.loc[490, "country_name"] == "Other Asia, nes"
    # Latin-1 decoded, not mangled
    assert any("\u00f4" in name for name in codes["country_name"].dropna())


def test_real_country_codes_v202401_layout():
    path = data_path(*CODES_2024, "country_codes_V202401.csv")
    codes = read_country_codes(SourceFile(str(path))).set_index("country_code")
    assert len(codes) == 238
    assert codes.loc[490, "iso3"] == "S19"
    assert codes.loc[516, "iso3"] == "NAM"
    # ISO3 codes repeat in BACI (BEL for 56 and 58): the BACI code is the key.
    assert (codes["iso3"] == "BEL").sum() == 2
    assert codes.loc[384, "country_name"].startswith("C\u00f4te")


def test_real_product_codes_keep_leading_zeros():
    path = data_path(*CODES_2024, "product_codes_HS92_V202401.csv")
    products = read_product_codes(SourceFile(str(path)))
    assert len(products) == 5022
    assert products["product"].str.len().eq(6).all()
    assert products["product"].iloc[0] == "010111"
    assert {"999999", "9999AA"} <= set(products["product"])


def test_real_flow_extract_padded_q_and_na():
    folder = data_path(*SAMPLE)
    flows_path = folder / "BACI_HS17_Y2020_V202301_subset_i4_i710.csv"
    countries = read_country_codes(SourceFile(str(folder / "country_codes_V202201.csv")))
    lines = flows_path.read_text().splitlines()[1:]
    product_codes = sorted({line.split(",")[3] for line in lines})
    flow = FlowFile(SourceFile(str(flows_path)), 2020, "HS17", "V202301")
    table = parse_all(flow, countries["country_code"].to_numpy(), product_codes).to_pandas()

    assert len(table) == 72_097 == len(lines)
    assert table["line_number"].tolist() == list(range(2, 72_099))
    accepted = table[table["reason"].isna()]
    # Italy is 380 in the V202301 flows but 381 in the V202201 code list: a real release
    # mismatch, reported rather than silently dropped.
    rejected = table[table["reason"].notna()]
    assert set(rejected["reason"]) == {"unknown importer code"}
    assert set(rejected["importer"]) == {380}
    assert table["quantity"].isna().sum() == 2_175  # the right-aligned "NA"s
    assert table.loc[0, "quantity"] == pytest.approx(0.001)  # "        0.001"
    assert table["value"].sum() == pytest.approx(51_605_142.675, rel=1e-12)
    assert accepted["product"].str.len().eq(6).all()
    assert "071120" in set(table["product"])  # leading zero kept


def write_release(
    folder: Path, rows: list[str], year: int = 2001, release: str = "V202401"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"country_codes_{release}.csv").write_text(
        "country_code,country_name,country_iso2,country_iso3\n4,Afghanistan,AF,AFG\n"
        '251,France,FR,FRA\n490,"Other Asia, nes",,S19\n842,USA,US,USA\n'
    )
    (folder / f"product_codes_HS92_{release}.csv").write_text(
        'code,description\n010111,"Horses: live"\n847130,Computers\n9999AA,Not specified\n'
    )
    (folder / f"BACI_HS92_Y{year}_{release}.csv").write_text(
        "t,i,j,k,v,q\n" + "\n".join(rows) + "\n"
    )
    return folder


# 64 bytes: blocks of one or two lines, so duplicates and unsplit lines meet across blocks.
@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_every_faulty_row_is_quarantined_with_its_line(tmp_path, block_bytes):
    rows = [
        "2001,251,842,010111,10.5,        1.000",  # 2 ok
        "2001,251,842,847130,abc,        1.000",  # 3 non-numeric value
        "2001,251,842,847130,-3.0,           NA",  # 4 negative value
        "2001,251,842,9999AA,0,           NA",  # 5 zero value
        "2001,251,842,847130",  # 6 missing fields
        "2001,251,842,847130,1.0,1.0,7",  # 7 extra field
        "2001,999,842,847130,1.0,NA",  # 8 unknown exporter
        "2001,251,842,123456,1.0,NA",  # 9 unknown product
        "2001,842,842,847130,1.0,NA",  # 10 exporter = importer
        "2001,251,842,010111,3.0,NA",  # 11 duplicate of line 2
        "2002,251,842,847130,1.0,NA",  # 12 wrong year
        "2001,4,490,847130,2.0,",  # 13 ok, empty q
        "2001,4,49",  # 14 truncated last line
    ]
    release = discover_release(str(write_release(tmp_path / "rel", rows)))
    countries = read_country_codes(release.country_file)
    products = read_product_codes(release.product_file)
    table = parse_all(
        release.flow_files[0],
        countries["country_code"].to_numpy(),
        products["product"],
        block_bytes=block_bytes,
    )
    reasons = dict(
        zip(
            table.column("line_number").to_pylist(), table.column("reason").to_pylist(), strict=True
        )
    )
    assert reasons == {
        2: None,
        3: "value is not a number",
        4: "value is zero or negative",
        5: "value is zero or negative",
        6: "missing fields: 4 of 6",
        7: "extra fields: 7 of 6",
        8: "unknown exporter code",
        9: "unknown product code",
        10: "exporter equals importer",
        11: "duplicate of line 2",
        12: "year does not match the file name (2001)",
        13: None,
        14: "truncated last line (missing fields: 3 of 6)",
    }
    assert table.num_rows == len(rows)  # rows read = accepted + quarantined


def test_release_from_zip(tmp_path):
    folder = write_release(tmp_path / "rel", ["2001,251,842,010111,10.5,1.0"])
    archive = tmp_path / "BACI_HS92_V202401.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.iterdir():
            zf.write(path, path.name)
    release = discover_release(str(archive))
    assert release.release == "V202401" and release.years == [2001]
    countries = read_country_codes(release.country_file)
    assert 490 in set(countries["country_code"])


def test_a_damaged_zip_member_is_named(tmp_path):
    folder = write_release(tmp_path / "rel", ["2001,251,842,010111,10.5,1.0"])
    archive = tmp_path / "BACI_HS92_V202401.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in folder.iterdir():
            zf.write(path, path.name)
    data = archive.read_bytes()
    at = data.index(b"10.5")
    archive.write_bytes(data[:at] + b"99.5" + data[at + 4 :])  # the CRC no longer matches
    release = discover_release(str(archive))
    with pytest.raises(BaciFormatError, match=r"zip!BACI_HS92_Y2001_V202401.csv cannot be read"):
        list(parse_flow_file(release.flow_files[0], [251, 842], pa.array(["010111"])))


def test_file_level_faults_name_the_file(tmp_path):
    folder = write_release(tmp_path / "rel", ["2001,251,842,010111,10.5,1.0"])
    (folder / "BACI_HS92_Y2002_V202301.csv").write_text("t,i,j,k,v,q\n")
    with pytest.raises(BaciFormatError, match="mixes BACI releases"):
        discover_release(str(folder))
    (folder / "BACI_HS92_Y2002_V202301.csv").unlink()
    (folder / "country_codes_V202401.csv").unlink()
    with pytest.raises(BaciFormatError, match="missing country_codes_V202401.csv"):
        discover_release(str(folder))
    bad_zip = tmp_path / "broken.zip"
    bad_zip.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BaciFormatError, match="broken.zip is neither a folder nor a readable zip"):
        discover_release(str(bad_zip))


@pytest.mark.parametrize(
    ("given", "arrow"),
    [
        ("s3a://bucket/baci/BACI_HS92_V202401.zip", "s3://bucket/baci/BACI_HS92_V202401.zip"),
        ("S3N://bucket/baci", "s3://bucket/baci"),
        ("gs://bucket/baci", "gs://bucket/baci"),
        ("hdfs://nn:8020/baci", "hdfs://nn:8020/baci"),
        ("/data/baci", "/data/baci"),
    ],
)
def test_hadoop_s3_uris_are_read_through_arrows_s3(given, arrow):
    # The warehouse takes Hadoop URIs (s3a://); --source must accept the same spelling.
    assert arrow_uri(given) == arrow
