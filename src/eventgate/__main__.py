import sys

from eventgate.cli.main import main

sys.exit(main())
