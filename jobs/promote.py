"""`spark-submit jobs/promote.py --config PATH`: speedrun's promote step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["promote", *sys.argv[1:]]))
