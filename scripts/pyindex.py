#!/usr/bin/env python3
"""A PEP 503 package index on 127.0.0.1 for build tests (PyPI is not reachable from the test machines).

    pyindex.py DIR PORT      build the test wheels into DIR and serve them until killed

Wheels are written by hand (a wheel is a zip with METADATA, WHEEL and RECORD), so no build backend or network
is needed. Two indexes are served:
  /simple/          public: imagespec-demo, imagespec-extra (which depends on imagespec-demo)
  /private/simple/  needs HTTP Basic auth with the password in $PYINDEX_TOKEN: imagespec-private
Requests for anything else get 404. It listens on 127.0.0.1 only.
"""
import base64
import hashlib
import http.server
import os
import sys
import zipfile

PACKAGES = {
    "simple": {
        "imagespec-demo": ("1.0.0", "VALUE = 'demo'\n", []),
        "imagespec-extra": ("2.0.0", "from imagespec_demo import VALUE\nEXTRA = VALUE + '-extra'\n", ["imagespec-demo"]),
    },
    "private/simple": {
        "imagespec-private": ("0.1.0", "SECRET_PACKAGE = True\n", []),
    },
}


def write_wheel(folder, name, version, code, requires):
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": code.encode(),
        f"{info}/METADATA": "".join(
            [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
            + [f"Requires-Dist: {r}\n" for r in requires]
        ).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: imagespec-pyindex\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = os.path.join(folder, f"{module}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            info_ = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            z.writestr(info_, data)
    return os.path.basename(wheel)


def build(root):
    for index, packages in PACKAGES.items():
        links = []
        for name, (version, code, requires) in packages.items():
            folder = os.path.join(root, index, name)
            os.makedirs(folder, exist_ok=True)
            wheel = write_wheel(folder, name, version, code, requires)
            sha = hashlib.sha256(open(os.path.join(folder, wheel), "rb").read()).hexdigest()
            with open(os.path.join(folder, "index.html"), "w") as f:
                f.write(f'<!DOCTYPE html><html><body><a href="{wheel}#sha256={sha}">{wheel}</a></body></html>\n')
            links.append(f'<a href="{name}/">{name}</a>')
        with open(os.path.join(root, index, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><html><body>" + "".join(links) + "</body></html>\n")


def serve(root, port):
    token = os.environ.get("PYINDEX_TOKEN", "")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        def do_GET(self):
            if self.path.startswith("/private/"):
                expected = "Basic " + base64.b64encode(f"token:{token}".encode()).decode()
                if not token or self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="private"')
                    self.end_headers()
                    return
            super().do_GET()

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    root, port = sys.argv[1], int(sys.argv[2])
    build(root)
    serve(root, port)
