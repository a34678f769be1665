"""BACI release -> Delta tables ``baci_flows``, ``baci_quarantine``, ``baci_countries``, ``baci_products``.

Every data line of every flow file ends up exactly once: accepted into ``baci_flows`` or, with its
file, line number and reason, in ``baci_quarantine``; the counts are returned and logged, so
rows read = rows accepted + rows quarantined. File-level problems (missing columns, empty file,
unreadable zip, missing code list, mixed releases) stop the run before anything is written.

Re-ingesting a year replaces it: each batch of years is written with ``replaceWhere`` in one
commit per table, so a rerun never duplicates rows and a killed run can simply be run again.

Incremental runs (``skip_unchanged``): each ingested flow file leaves a fingerprint (name, size,
modification time, the code lists' content and the code version) in the small table
``baci_ingest_files``; a file whose fingerprint is unchanged is not read again.

Each yearly file is read by one Spark task (``spark.range`` with one partition per file, so
neither the shuffle partitions nor adaptive execution change it), streamed in bounded blocks
(``lib.io.baci.FlowFileReader``) and checked once: the accepted rows and the rejected lines come
out of the same pass. The accepted rows are written in one of two ways (``output.writer``): the
task writes them as one Parquet file a year with pyarrow, row group by row group, and the driver
commits the batch's files in one transaction (``lib.io.delta_arrow``; no row enters the JVM); or
they stream from the task into Spark's Delta writer. Either way each task also returns a
one-row summary of its file: the line counts, the file's Delta action, and its rejected lines
(the driver writes them to the quarantine). With Spark's writer the summaries travel as
observed metrics of the write (``DataFrame.observe``), the public way for tasks to report on the
rows they produced.

WHY rejected lines in the summary: they are few (none in a sound BACI file), and the driver
writes the quarantine with Spark, so no task needs write access for it. A file with more than
``REJECTS_IN_RESULT`` rejected lines (a wrong file rather than wrong lines) is the exception:
its counts still come from the one pass, its quarantine rows from a second read of that file.
"""

from lib.execution.ingest.reading import (  # noqa: F401
    FILE_SUMMARY,
    FILE_SUMMARY_SPARK,
    FILES_PER_BATCH,
    FLOW_COLUMNS,
    FLOWS_WRITE,
    INGEST_FILES,
    PARSED_WITH_SUMMARY,
    PARSED_WITH_SUMMARY_SPARK,
    REJECTED_SPARK_SCHEMA,
    REJECTS_IN_RESULT,
    UNSORTED_PARTITION_WRITES,
    FileReading,
)
from lib.execution.ingest.stage import (  # noqa: F401
    IngestReport,
    check_flow_headers,
    flow_fingerprints,
    ingest_release,
    ingested_fingerprints,
)
from lib.execution.ingest.writers import (  # noqa: F401
    _write_quarantine,
    write_flows_with_arrow,
    write_flows_with_spark,
)
