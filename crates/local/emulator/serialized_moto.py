"""moto in server mode, with every DynamoDB request serialized.

moto's DynamoDB backend is not atomic under concurrent requests: two conditional
writes can both pass their condition and oversell. Real DynamoDB serializes
writes per item, so this wrapper holds one lock around each DynamoDB and
DynamoDB Streams request. Everything else (SQS long polls above all) stays
concurrent.

Usage: serialized_moto.py PORT   (binds 127.0.0.1 only)
"""

import os
import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

_dynamodb_lock = threading.Lock()


def serialize_dynamodb(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB"):
            return app(environ, start_response)
        with _dynamodb_lock:
            # Drain the body inside the lock: the work may happen lazily.
            return [b"".join(app(environ, start_response))]

    return wrapped


class QuietHandler(WSGIRequestHandler):
    """One log line per request would drown the stack's own logs."""

    def log_request(self, *args, **kwargs):
        pass


def exit_with_parent():
    """The local stack starts this process; never outlive it, even on SIGKILL."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main():
    port = int(sys.argv[1])
    threading.Thread(target=exit_with_parent, daemon=True).start()
    app = serialize_dynamodb(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
    print(f"emulator listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
