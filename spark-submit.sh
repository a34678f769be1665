#!/usr/bin/env bash
# Launcher for the pipeline, locally and on clusters.
#
#   ./spark-submit.sh jobs/fitness.py [job options]          run a job (local mode by default)
#   ./spark-submit.sh --master spark://host:7077 jobs/fitness.py ...   any spark-submit option passes through
#   ./spark-submit.sh --remote sc://host:15002 jobs/fitness.py ...     through a Spark Connect server
#   ./spark-submit.sh --test [pytest options]                run the test suite
#   ./spark-submit.sh --bench [benchmark options]            the full-scale benchmark (bench/README.md)
#   ./spark-submit.sh --bootstrap                            only install (venv with the test tools + Delta jars)
#   ECX_DRY_RUN=1 ./spark-submit.sh ...                      print the spark-submit command only
#
# On first use it creates .venv with the pinned dependencies of pyproject.toml (the job's only;
# --test, --bench and --bootstrap add the test tools, the "dev" extra) and resolves the Delta Lake jars once
# from Maven Central into .cache/jars, so later runs and the tests work offline. Then it calls
# Spark's own spark-submit with the project code (a zip of lib/, shipped with --py-files so
# executors on a cluster see it) and Delta configured.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${ECX_VENV:-$ROOT/.venv}"
CACHE="${ECX_CACHE:-$ROOT/.cache}"
JARS_DIR="$CACHE/jars"
PY="$VENV/bin/python"

log() { printf '[spark-submit.sh] %s\n' "$*" >&2; }
die() { printf '[spark-submit.sh] ERROR: %s\n' "$*" >&2; exit 2; }

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

check_java() {
  command -v java >/dev/null 2>&1 || die "Java 17 or newer is required (java not found on PATH)."
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  [ "${major%%.*}" -ge 17 ] 2>/dev/null || die "Java 17 or newer is required (found ${major:-unknown})."
}

ensure_venv() {  # ensure_venv [dev]: the job's dependencies; with "dev", also the test tools
  local extra="${1:-}" want stamp spec
  want=$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)
  # One stamp per set, so each is installed once: the job's own (.[]), the test tools (.[dev]).
  stamp="$VENV/.ecx-installed${extra:+-$extra}"
  if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  local base
  base=$(find_python) || die "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)."
  if [ -n "$extra" ] && [ -f "$VENV/.ecx-installed" ] && [ "$(cat "$VENV/.ecx-installed")" = "$want" ]; then
    log "adding the test tools to $VENV (first run only)"
  else
    log "installing the pinned environment${extra:+ and the test tools} into $VENV (first run only, a few minutes)"
  fi
  [ -x "$PY" ] || "$base" -m venv "$VENV"
  mkdir -p "$CACHE"
  spec="$ROOT${extra:+[$extra]}"
  { "$PY" -m pip install --upgrade pip && "$PY" -m pip install -e "$spec"; } >"$CACHE/pip.log" 2>&1 ||
    { tail -30 "$CACHE/pip.log" >&2; die "pip install failed; full log in $CACHE/pip.log"; }
  echo "$want" > "$stamp"
  # .[dev] holds .[]: the job's set is then current too.
  [ -z "$extra" ] || echo "$want" > "$VENV/.ecx-installed"
}

ensure_delta_jars() {
  local coordinate
  coordinate=$(cd "$ROOT" && "$PY" -c 'from lib.run.session import delta_maven_coordinate; print(delta_maven_coordinate())')
  if ls "$JARS_DIR"/io.delta_delta-spark_*.jar >/dev/null 2>&1 &&
     [ -f "$JARS_DIR/.coordinate" ] && [ "$(cat "$JARS_DIR/.coordinate")" = "$coordinate" ]; then
    return 0
  fi
  log "resolving $coordinate from Maven Central with Spark's resolver (first run only)"
  mkdir -p "$CACHE/ivy" "$JARS_DIR"
  local noop="$CACHE/resolve_noop.py"
  echo 'print("delta jars resolved")' > "$noop"
  "$VENV/bin/spark-submit" --master 'local[1]' --packages "$coordinate" \
    --conf "spark.jars.ivy=$CACHE/ivy" --conf spark.ui.enabled=false "$noop" >"$CACHE/resolve.log" 2>&1 ||
    die "could not resolve $coordinate from Maven Central; see $CACHE/resolve.log"
  rm -f "$JARS_DIR"/*.jar
  # Spark already ships Delta's transitive dependencies (Hadoop, Parquet, Jackson, ANTLR); only
  # Delta's own two jars go on the classpath, which avoids older duplicates shadowing Spark's.
  cp "$CACHE"/ivy/jars/io.delta_delta-spark_*.jar "$CACHE"/ivy/jars/io.delta_delta-storage-*.jar "$JARS_DIR"/
  echo "$coordinate" > "$JARS_DIR/.coordinate"
}

ensure_s3a_jars() {  # the S3A connector (hadoop-aws + AWS SDK bundle) for s3a:// in local mode
  local coordinates dir="$JARS_DIR/s3a"
  coordinates=$(cd "$ROOT" && "$PY" -c 'from lib.run.session import s3a_maven_coordinates; print(s3a_maven_coordinates())')
  if ls "$dir"/org.apache.hadoop_hadoop-aws-*.jar >/dev/null 2>&1 &&
     [ -f "$dir/.coordinate" ] && [ "$(cat "$dir/.coordinate")" = "$coordinates" ]; then
    return 0
  fi
  log "resolving $coordinates from Maven Central (first run only, ~690 MB)"
  mkdir -p "$CACHE/ivy" "$dir"
  local noop="$CACHE/resolve_noop.py"
  echo 'print("s3a jars resolved")' > "$noop"
  "$VENV/bin/spark-submit" --master 'local[1]' --packages "$coordinates" \
    --conf "spark.jars.ivy=$CACHE/ivy" --conf spark.ui.enabled=false "$noop" >"$CACHE/resolve-s3a.log" 2>&1 ||
    die "could not resolve $coordinates from Maven Central; see $CACHE/resolve-s3a.log"
  rm -f "$dir"/*.jar
  # Hard links where possible: the SDK bundle alone is ~690 MB.
  local jar
  for jar in "$CACHE"/ivy/jars/org.apache.hadoop_hadoop-aws-*.jar "$CACHE"/ivy/jars/software.amazon.*.jar \
             "$CACHE"/ivy/jars/org.wildfly.openssl_*.jar; do
    [ -f "$jar" ] || continue
    ln -f "$jar" "$dir"/ 2>/dev/null || cp "$jar" "$dir"/
  done
  echo "$coordinates" > "$dir/.coordinate"
}

build_code_zip() {
  # Executors on a cluster import lib/ from this zip, never from the driver's working copy.
  mkdir -p "$ROOT/dist"
  (cd "$ROOT" && "$PY" - <<'PYEOF'
import pathlib, zipfile
root = pathlib.Path(".")
with zipfile.ZipFile("dist/ecx_lib.zip", "w", zipfile.ZIP_DEFLATED) as zf:
    for path in sorted(root.glob("lib/**/*")):
        if path.is_file() and "__pycache__" not in path.parts:
            zf.write(path)
PYEOF
  )
}

bootstrap() {  # bootstrap [dev]
  check_java
  ensure_venv "${1:-}"
  ensure_delta_jars
  # The test suite runs the job on an s3a:// warehouse (a local S3 server): the connector too.
  [ -z "${1:-}" ] || ensure_s3a_jars
}

export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$PY}"
export PYSPARK_DRIVER_PYTHON="${PYSPARK_DRIVER_PYTHON:-$PY}"
export ECX_JARS_DIR="$JARS_DIR"
export ECX_CONF_DIR="${ECX_CONF_DIR:-$ROOT/conf}"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

case "${1:-}" in
  --bootstrap)  # a developer's set-up: the test tools (ruff, pytest) too
    bootstrap dev; log "ready: $VENV, Delta and S3A jars in $JARS_DIR"; exit 0 ;;
  --test)
    shift; bootstrap dev
    cd "$ROOT"
    exec "$PY" -m pytest "$@" ;;
  --bench)
    shift; bootstrap dev  # the baselines run the peer library (py-ecomplexity)
    cd "$ROOT"
    exec "$PY" bench/run_benchmark.py "$@" ;;
  "" | -h | --help)
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

bootstrap

# Spark Connect: the job is a plain Python client of the server (no local JVM); lib/ travels to
# the server's Python workers as an artifact (lib.run.session.ship_code).
if [ "${1:-}" = --remote ]; then
  [ $# -ge 3 ] || die "usage: ./spark-submit.sh --remote sc://host:port jobs/JOB.py [options]"
  export ECX_SPARK_REMOTE="$2"; shift 2
  cd "$ROOT"
  exec "$PY" "$@"
fi
build_code_zip

# Split the user's spark-submit options from the application and its arguments.
spark_opts=(); app_and_args=(); master=""; properties_file=""; has_driver_memory=0; has_pyspark_python=0
while [ $# -gt 0 ]; do
  case "$1" in
    --master) master="$2"; spark_opts+=("$1" "$2"); shift 2 ;;
    --master=*) master="${1#--master=}"; spark_opts+=("$1"); shift ;;
    --driver-memory|--driver-memory=*) has_driver_memory=1; spark_opts+=("$1"); [ "$1" = --driver-memory ] && { spark_opts+=("$2"); shift; }; shift ;;
    --conf)
      case "$2" in
        spark.pyspark.python=*) has_pyspark_python=1 ;;
        spark.master=*) master="${2#spark.master=}" ;;
        spark.driver.memory=*) has_driver_memory=1 ;;
      esac
      spark_opts+=("$1" "$2"); shift 2 ;;
    --properties-file) properties_file="$2"; spark_opts+=("$1" "$2"); shift 2 ;;
    --verbose|-v|--supervise|--load-spark-defaults) spark_opts+=("$1"); shift ;;
    --*) spark_opts+=("$1" "$2"); shift 2 ;;
    *) app_and_args=("$@"); break ;;
  esac
done
[ ${#app_and_args[@]} -gt 0 ] || die "no application given (e.g. ./spark-submit.sh jobs/fitness.py)"

# A properties file (conf/cluster/*.conf) may name the master and the driver memory itself.
property() {  # property FILE KEY -> its value ("key value" or "key=value"), empty if absent
  sed -n "s/^[[:space:]]*$2[[:space:]=][[:space:]]*\([^[:space:]]*\).*/\1/p" "$1" | tail -n 1
}
if [ -n "$properties_file" ]; then
  [ -f "$properties_file" ] || die "properties file not found: $properties_file"
  [ -n "$master" ] || master="$(property "$properties_file" 'spark\.master')"
  [ -z "$(property "$properties_file" 'spark\.driver\.memory')" ] || has_driver_memory=1
fi

extra=()
[ -n "$master" ] || extra+=(--master "local[*]")
case "$master" in
  ""|local*)
    # Local mode runs every task in the driver's JVM: Spark's 1 GiB default heap is too small for
    # tall tables, whether or not --master was given.
    [ "$has_driver_memory" = 1 ] || extra+=(--driver-memory "${ECX_DRIVER_MEMORY:-8g}")
    # s3a:// in local mode: the S3A connector on the driver's class path (the executors share
    # its JVM), resolved on first use. A cluster has its own (docs/cluster.md).
    case " ${app_and_args[*]} " in *s3a://*) ensure_s3a_jars ;; esac
    s3a=$(ls "$JARS_DIR"/s3a/*.jar 2>/dev/null | paste -sd: - || true)  # none before --bootstrap
    [ -z "$s3a" ] || extra+=(--driver-class-path "$s3a") ;;
esac
# An S3-compatible endpoint named by AWS_ENDPOINT_URL: S3A's settings for it (lib.io.object_stores;
# the keys stay in the environment, where S3A's credential chain reads them). The user's own
# --conf come later and win.
if [ -n "${AWS_ENDPOINT_URL:-}${AWS_ENDPOINT_URL_S3:-}" ]; then
  while IFS= read -r setting; do extra+=(--conf "$setting"); done < <(cd "$ROOT" && "$PY" -c \
    'from lib.io.object_stores import s3a_endpoint_conf; print("\n".join(f"{k}={v}" for k, v in s3a_endpoint_conf().items()))')
fi
# Executors started on this machine (local mode, a standalone cluster here) use the venv's Python.
# On YARN/Kubernetes/Databricks the user ships an environment (README, "Running on a cluster").
case "$master" in
  ""|local*|spark://127.0.0.1*|spark://localhost*)
    [ "$has_pyspark_python" = 1 ] || extra+=(--conf "spark.pyspark.python=$PY") ;;
esac

# Spark's driver logs warnings and errors only (conf/log4j2.properties), unless the job was
# given --verbose. SPARK_SUBMIT_OPTS goes to the JVM spark-submit starts, which is the driver in
# local and client mode; a user's spark.driver.extraJavaOptions come after it and win.
verbose=0
for arg in "${app_and_args[@]:1}"; do [ "$arg" != --verbose ] || verbose=1; done
if [ "$verbose" = 0 ]; then
  log_config="file:${ROOT// /%20}/conf/log4j2.properties"
  export SPARK_SUBMIT_OPTS="-Dlog4j2.configurationFile=$log_config${SPARK_SUBMIT_OPTS:+ $SPARK_SUBMIT_OPTS}"
fi

# The job's progress (lib/run/progress.py) goes straight to the terminal of stderr, if it is one:
# spark-submit merges the Python driver's stderr into the JVM's stdout, a pipe.
unset ECX_PROGRESS_TERMINAL
if [ -t 2 ] && terminal=$(tty <&2 2>/dev/null); then export ECX_PROGRESS_TERMINAL="$terminal"; fi

jars=$(ls "$JARS_DIR"/*.jar | paste -sd, -)
cd "$ROOT"
# ECX_DRY_RUN=1: print the spark-submit command instead of running it.
if [ "${ECX_DRY_RUN:-0}" = 1 ]; then
  echo "SPARK_SUBMIT_OPTS=${SPARK_SUBMIT_OPTS:-}"
  exec echo "$VENV/bin/spark-submit" "${extra[@]}" --jars "$jars" \
    --py-files "$ROOT/dist/ecx_lib.zip" "${spark_opts[@]}" "${app_and_args[@]}"
fi
exec "$VENV/bin/spark-submit" \
  "${extra[@]}" \
  --jars "$jars" \
  --py-files "$ROOT/dist/ecx_lib.zip" \
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
  --conf spark.ui.showConsoleProgress=false \
  "${spark_opts[@]}" \
  "${app_and_args[@]}"
