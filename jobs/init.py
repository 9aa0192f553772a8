"""`python jobs/init.py DATA --label COLUMN [--output FILE]`: speedrun's init step (no Spark job: it reads a sample)."""

import sys

from speedrun.cli import main

if __name__ == "__main__":
    sys.exit(main(["init", *sys.argv[1:]]))
