"""`spark-submit jobs/drift.py --config PATH`: speedrun's drift verdict as a Spark job."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["drift", *sys.argv[1:]]))
