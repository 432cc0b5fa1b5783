"""The image's code: prints where it runs."""

import os

print(f"hello from push-to-gar ({os.environ.get('APP_MODE', 'dev')})")
