"""`spark-submit jobs/prepare.py --config PATH [--set KEY=VALUE ...]`: speedrun's prepare step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["prepare", *sys.argv[1:]]))
