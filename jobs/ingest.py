"""`spark-submit jobs/ingest.py --config PATH [--set KEY=VALUE ...]`: speedrun's ingest step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
