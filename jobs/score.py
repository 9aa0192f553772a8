"""`spark-submit jobs/score.py --config PATH`: speedrun's score step as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["score", *sys.argv[1:]]))
