import sys

from eventgate.cli import main

sys.exit(main())
