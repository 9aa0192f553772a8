"""`spark-submit jobs/evaluate.py --config PATH [--set KEY=VALUE ...]`: speedrun's evaluate step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
