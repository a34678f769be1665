"""spark-submit.sh builds the spark-submit command users expect (ECX_DRY_RUN prints it)."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import PROJECT_ROOT


def dry_run(*args: str) -> list[str]:
    """The lines ECX_DRY_RUN prints: the driver's SPARK_SUBMIT_OPTS, then the command."""
    env = {k: v for k, v in os.environ.items() if k != "SPARK_SUBMIT_OPTS"}
    result = subprocess.run(
        ["./spark-submit.sh", *args],
        cwd=PROJECT_ROOT,
        env={**env, "ECX_DRY_RUN": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def launch(*args: str) -> list[str]:
    return dry_run(*args)[-1].split()


def test_local_mode_by_default_with_the_code_shipped_to_executors():
    command = launch("jobs/fitness.py", "--years", "2020")
    assert command[command.index("--master") + 1] == "local[*]"
    assert command[command.index("--py-files") + 1].endswith("dist/ecx_lib.zip")
    assert command[-3:] == ["jobs/fitness.py", "--years", "2020"]


def test_local_mode_gets_the_driver_heap_whether_or_not_a_master_is_given():
    """Local mode runs every task in the driver's JVM: Spark's 1 GiB default is too small for
    tall tables, so --master local[N] gets the same heap as the default (ECX_DRIVER_MEMORY)."""
    for args in ((), ("--master", "local[2]")):
        command = launch(*args, "jobs/fitness.py")
        heap = os.environ.get("ECX_DRIVER_MEMORY", "8g")
        assert command[command.index("--driver-memory") + 1] == heap, args
    given = launch("--master", "local[2]", "--driver-memory", "3g", "jobs/fitness.py")
    assert given.count("--driver-memory") == 1 and "3g" in given
    assert "--driver-memory" not in launch("--master", "yarn", "jobs/fitness.py")


def test_a_master_from_a_properties_file_is_respected(tmp_path):
    properties = tmp_path / "yarn.conf"
    properties.write_text("spark.master   yarn\nspark.driver.memory=4g\n")
    command = launch("--properties-file", str(properties), "jobs/fitness.py")
    assert "--master" not in command  # spark-submit takes it from the file
    assert "--driver-memory" not in command
    assert not any(c.startswith("spark.pyspark.python=") for c in command)  # nodes ship theirs
    assert command[command.index("--properties-file") + 1] == str(properties)


def test_a_master_given_as_conf_is_respected():
    command = launch("--conf", "spark.master=spark://10.0.0.5:7077", "jobs/fitness.py")
    assert command.count("--master") == 0
    assert "spark.master=spark://10.0.0.5:7077" in command


def test_the_driver_logs_quietly_unless_the_job_is_verbose():
    quiet = dry_run("jobs/fitness.py", "--years", "2020")[0]
    config = PROJECT_ROOT / "conf" / "log4j2.properties"
    assert quiet == f"SPARK_SUBMIT_OPTS=-Dlog4j2.configurationFile=file:{config}"
    assert config.read_text().count("rootLogger.level = warn") == 1
    assert dry_run("jobs/fitness.py", "--verbose")[0] == "SPARK_SUBMIT_OPTS="
    # spark-submit's own --verbose (before the application) is not the job's
    assert dry_run("--verbose", "jobs/fitness.py")[0] == quiet


def test_s3_in_local_mode_connector_on_the_class_path_endpoint_from_the_environment():
    """The suite's AWS variables (tests/s3_server.py) as a user's: the S3A connector the
    bootstrap resolved is on the driver's class path, the endpoint becomes S3A settings, and
    no key reaches the command line."""
    from lib.run.session import hadoop_version

    command = launch("jobs/fitness.py", "--warehouse", "s3a://bucket/wh")
    class_path = command[command.index("--driver-class-path") + 1].split(":")
    assert any(p.endswith(f"hadoop-aws-{hadoop_version()}.jar") for p in class_path)
    settings = [command[i + 1] for i, a in enumerate(command) if a == "--conf"]
    assert f"spark.hadoop.fs.s3a.endpoint={os.environ['AWS_ENDPOINT_URL']}" in settings
    assert "spark.hadoop.fs.s3a.path.style.access=true" in settings
    joined = " ".join(command)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert os.environ[key] not in joined
    # a cluster brings its own connector: none added
    cluster = launch("--master", "yarn", "jobs/fitness.py", "--warehouse", "s3a://bucket/wh")
    assert "--driver-class-path" not in cluster
