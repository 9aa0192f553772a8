"""`spark-submit jobs/split.py --config PATH [--set KEY=VALUE ...]`: speedrun's split step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["split", *sys.argv[1:]]))
