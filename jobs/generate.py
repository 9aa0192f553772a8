"""`spark-submit jobs/generate.py --config PATH [--set KEY=VALUE ...]`: speedrun's generate step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
