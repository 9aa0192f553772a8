"""`spark-submit jobs/run.py --config PATH [--set KEY=VALUE ...]`: speedrun's run step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
