"""`spark-submit jobs/validate.py --config PATH`: speedrun's validate step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["validate", *sys.argv[1:]]))
