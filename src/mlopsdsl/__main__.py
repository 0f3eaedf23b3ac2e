import sys

from mlopsdsl.cli import main

sys.exit(main())
