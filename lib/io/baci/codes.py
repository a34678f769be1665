"""The code lists of a BACI release (countries and products): small files, read on the driver by header name.

Two layouts of the country file (before and from V202401) and old Latin-1 files are handled here;
nothing here reads the flow files.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from lib.io.baci.releases import BaciFormatError, SourceFile, open_source

# --- code lists (small: read on the driver) ------------------------------------------------


def _read_text(source: SourceFile) -> str:
    with open_source(source) as stream:
        raw = stream.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # old country files are Latin-1


def _read_small_csv(source: SourceFile) -> pd.DataFrame:
    text = _read_text(source)
    if not text.strip():
        raise BaciFormatError(f"{source.display} is empty. Restore it from the CEPII download.")
    # keep_default_na=False: Namibia's ISO2 code is "NA"; empty strings become null below.
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _require_columns(frame: pd.DataFrame, source: SourceFile, required: list[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BaciFormatError(
            f"{source.display}: missing column(s) {', '.join(missing)} (header has "
            f"{', '.join(frame.columns)}). Is this a BACI code list? Restore it from CEPII."
        )


def read_country_codes(source: SourceFile) -> pd.DataFrame:
    """country_code (int), country_name, iso2, iso3 from either BACI layout.

    BACI codes differ from ISO in places (251 France, 842 USA, 490 "Other Asia, nes") and ISO3
    codes repeat (BEL for 56 and 58), so the BACI code is the key, never ISO3.
    """
    frame = _read_small_csv(source)
    if "country_name" in frame.columns:  # V202401 and later
        names = {"country_name": "country_name", "country_iso2": "iso2", "country_iso3": "iso3"}
    else:  # before V202401
        names = {
            "country_name_abbreviation": "country_name",
            "iso_2digit_alpha": "iso2",
            "iso_3digit_alpha": "iso3",
        }
    _require_columns(frame, source, ["country_code", *names])
    out = frame[["country_code", *names]].rename(columns=names)
    codes = pd.to_numeric(out["country_code"].str.strip(), errors="coerce")
    if codes.isna().any():
        line = int(np.flatnonzero(codes.isna().to_numpy())[0]) + 2
        raise BaciFormatError(f"{source.display}, line {line}: country_code is not a number.")
    out["country_code"] = codes.astype("int32")
    for column in ("country_name", "iso2", "iso3"):
        out[column] = out[column].str.strip().replace({"": None, "N/A": None})
    return out.drop_duplicates("country_code").reset_index(drop=True)


def read_product_codes(source: SourceFile) -> pd.DataFrame:
    """product (6-character string, leading zeros kept) and description."""
    frame = _read_small_csv(source)
    _require_columns(frame, source, ["code", "description"])
    codes = frame["code"].str.strip()
    numeric = codes.str.fullmatch(r"\d{1,6}")
    codes = codes.where(~numeric, codes.str.zfill(6))  # a file re-saved by a spreadsheet
    bad = ~codes.str.fullmatch(r"[0-9A-Z]{6}")
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise BaciFormatError(
            f"{source.display}, line {line}: '{codes[bad].iloc[0]}' is not a 6-character HS code."
        )
    return pd.DataFrame({"product": codes, "description": frame["description"].str.strip()})
