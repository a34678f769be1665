"""Fuzz: whatever is done to a BACI file's lines, every data line comes out exactly once.

rows read = rows accepted + rows quarantined, and each output row keeps its physical line.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.io.baci import PARSED_SCHEMA, FlowFile, SourceFile, parse_flow_file

COUNTRIES = [4, 251, 490, 842]
PRODUCTS = ["010111", "847130", "9999AA"]
GOOD = [
    "2001,251,842,010111,10.500,        1.000",
    "2001,842,251,847130,7.250,           NA",
    "2001,4,490,9999AA,2.000,",
    "2001,490,4,847130,0.001,        0.001",
]
# Printable junk without line breaks: BACI files are one record per line.
junk = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
)


@st.composite
def mutated_files(draw) -> list[str]:
    lines = draw(st.lists(st.sampled_from(GOOD), min_size=0, max_size=25))
    for index in range(len(lines)):
        action = draw(
            st.sampled_from(["keep", "keep", "field", "drop_field", "add_field", "junk", "empty"])
        )
        fields = lines[index].split(",")
        if action == "field":
            fields[draw(st.integers(0, 5))] = draw(junk)
        elif action == "drop_field":
            del fields[draw(st.integers(0, len(fields) - 1))]
        elif action == "add_field":
            fields.append(draw(junk))
        elif action == "junk":
            fields = [draw(junk)]
        elif action == "empty":
            fields = [""]
        lines[index] = ",".join(fields)
    if lines and draw(st.booleans()):  # truncate the last line somewhere
        lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
    return lines


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=mutated_files(),
    trailing_newline=st.booleans(),
    block_bytes=st.sampled_from([80, 200, 1 << 20]),
)
def test_accounting_identity_under_mutation(tmp_path, lines, trailing_newline, block_bytes):
    """Whatever the lines, and wherever the blocks of the streaming read cut them."""
    body = "t,i,j,k,v,q\n" + "\n".join(lines) + ("\n" if trailing_newline and lines else "")
    path = tmp_path / "BACI_HS92_Y2001_V202401.csv"
    path.write_bytes(body.encode("utf-8"))
    flow = FlowFile(SourceFile(str(path)), 2001, "HS92", "V202401")
    batches = list(parse_flow_file(flow, COUNTRIES, pa.array(PRODUCTS), block_bytes=block_bytes))
    out = pa.Table.from_batches(batches, schema=PARSED_SCHEMA).to_pandas()
    data_lines = body.split("\n")[1:]
    if data_lines and data_lines[-1] == "":
        data_lines.pop()  # the newline that ends the last line does not start a new one
    n_lines = len(data_lines)
    assert len(out) == n_lines, "rows read must equal accepted + quarantined"
    assert sorted(out["line_number"]) == list(range(2, n_lines + 2)), "each line exactly once"
    accepted = out[out["reason"].isna()]
    assert (accepted["value"] > 0).all()
    assert accepted["exporter"].isin(COUNTRIES).all() and accepted["importer"].isin(COUNTRIES).all()
    assert (accepted["exporter"] != accepted["importer"]).all()
    assert not accepted.duplicated(["exporter", "importer", "product"]).any()
    assert out.loc[out["reason"].notna(), "raw_line"].notna().all()
