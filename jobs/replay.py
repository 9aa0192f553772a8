"""`spark-submit jobs/replay.py RUN_ID --config PATH`: replay a training run and check its metrics match."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["replay", *sys.argv[1:]]))
