import sys

from analytics_service.cli import main

sys.exit(main())
