# The example image's entrypoint: prints what the image holds.
import json
import os
import shutil

import imagespec_extra

print(
    json.dumps(
        {
            "package": imagespec_extra.EXTRA,
            "jq": shutil.which("jq"),
            "greeting": os.environ["GREETING"],
            "quoted": os.environ["QUOTED"],
            "image_id": os.environ["_F_IMG_ID"],
        },
        indent=2,
    )
)
