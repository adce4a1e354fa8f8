import sys

from bci.cli import main

sys.exit(main())
