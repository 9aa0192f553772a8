"""`spark-submit jobs/train.py --config PATH [--set KEY=VALUE ...]`: speedrun's train step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
