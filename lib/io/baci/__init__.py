"""Reading a CEPII BACI release: a folder or the zip CEPII ships, locally or on any Hadoop URI.

A release holds ``BACI_HS{rev}_Y{year}_V{release}.csv`` per year, ``country_codes_V{release}.csv``
and ``product_codes_HS{rev}_V{release}.csv``. Everything is read by header name with an explicit
schema: product codes stay 6-character strings, ``q`` may be right-padded with spaces and ``NA``
or empty means null, the country file has two layouts (before and from V202401) and old ones may
be Latin-1.

Flow files are parsed with Arrow inside Spark tasks (one task per yearly file, see
``lib.execution.ingest``): Arrow's CSV reader is several times faster than Spark's, and reading a whole file
in one task keeps physical line numbers, so every rejected row is reported with its file and line.
The file is streamed in bounded blocks (``FlowFileReader``), so a task's memory does not grow with
the file.
"""

from lib.io.baci.checks import INTEGER, NUMBER  # noqa: F401
from lib.io.baci.codes import read_country_codes, read_product_codes  # noqa: F401
from lib.io.baci.flows import (  # noqa: F401
    ACCEPTED_SCHEMA,
    BLOCK_BYTES,
    PARSED_SCHEMA,
    READ_BYTES,
    REJECTED_SCHEMA,
    CheckedBlock,
    FlowFileReader,
    parse_flow_file,
    read_flow_header,
    reason_kind,
)
from lib.io.baci.releases import (  # noqa: F401
    COUNTRY_FILE,
    FLOW_COLUMNS,
    FLOW_FILE,
    PRODUCT_FILE,
    RELEASE_ID,
    UNSPECIFIED_PREFIX,
    BaciFormatError,
    BaciRelease,
    FlowFile,
    SourceFile,
    damaged_file_errors,
    discover_release,
    fingerprint,
    open_source,
)
