"""`spark-submit jobs/tune.py --config PATH [--set KEY=VALUE ...]`: speedrun's tune step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["tune", *sys.argv[1:]]))
