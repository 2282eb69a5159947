"""A Lambda custom runtime for the Python side-by-side: the loop the Python
managed runtime (awslambdaric) runs, over the Runtime API on
AWS_LAMBDA_RUNTIME_API: take the next event, call the handler, post its
answer (or its error). Started as `python bootstrap.py cart.handler` (the
handler as Lambda's `Handler` setting names it), so the handler module next to
it is imported as the runtime imports it, before the first event.
"""

import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = "/2018-06-01/runtime"


class Context:
    """The fields of Lambda's context object that handlers and Powertools read."""

    def __init__(self, headers):
        self.aws_request_id = headers["lambda-runtime-aws-request-id"]
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = self.log_stream_name = ""
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def main():
    module, function = (sys.argv[1] if len(sys.argv) > 1 else "cart.handler").rsplit(".", 1)
    handler = getattr(importlib.import_module(module), function)
    runtime = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    while True:
        runtime.request("GET", f"{API}/invocation/next")
        response = runtime.getresponse()
        event = json.loads(response.read())
        context = Context({k.lower(): v for k, v in response.getheaders()})
        try:
            body, outcome = json.dumps(handler(event, context)), "response"
        except Exception as e:  # the runtime reports any failure as the invocation's error
            body, outcome = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__,
                                        "stackTrace": traceback.format_exc().splitlines()}), "error"
        runtime.request("POST", f"{API}/invocation/{context.aws_request_id}/{outcome}", body=body,
                        headers={"Content-Type": "application/json"})
        runtime.getresponse().read()


if __name__ == "__main__":
    main()
