"""What this image contains: printed by `./scripts/main.sh` after it builds and pushes the image."""
import json
import os
import platform
import subprocess
import sys

import imagespec_extra

print(f"python        {platform.python_version()} (environment {sys.prefix})")
print(f"package       imagespec-extra -> {imagespec_extra.EXTRA}")
print(f"apt package   {subprocess.run(['jq', '--version'], capture_output=True, text=True).stdout.strip()}")
print(f"env GREETING  {os.environ['GREETING']}")
print(f"env QUOTED    {os.environ['QUOTED']}")
print(f"copied file   /root/data/numbers.json -> {json.load(open('/root/data/numbers.json'))}")
print(f"source tree   {sorted(os.listdir('/root'))}")
print(f"_F_IMG_ID     {os.environ.get('_F_IMG_ID')}")
