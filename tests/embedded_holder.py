"""A process that uses the embedded servers of a var folder until told to leave (a test helper).

Prints one JSON line with the URLs once both servers are up, then waits for a line on stdin.
"""

import json
import sys
from pathlib import Path

from config import embedded

if __name__ == "__main__":
    var_dir = Path(sys.argv[1])
    urls = {"postgres": embedded.postgres_url(var_dir), "redis": embedded.redis_url(var_dir)}
    print(json.dumps(urls), flush=True)
    sys.stdin.readline()
