"""localstripe (a fake of Stripe's API) for the local stack, as every server
the project starts: on 127.0.0.1 only, and from scratch each time.

localstripe's own `start()` binds every interface (`::`) and keeps its
state in a fixed `/tmp/localstripe.pickle`, shared by every instance on the
machine. Here its aiohttp app runs on the loopback address, and its store
lives in this process's memory only.

    python localstripe_loopback.py PORT

localstripe is GPL-3.0: a development tool the local stack runs, never part
of what is deployed (docs/local-stack.md).
"""

import logging
import sys

from aiohttp import web
from localstripe import resources
from localstripe.server import app


def in_memory_only(store_class):
    """No pickle: nothing read from, or written to, the shared file."""
    store_class.try_load_from_disk = lambda self: None
    store_class.dump_to_disk = lambda self: None


def new_payment_method_after_a_decline(intent_class):
    """As Stripe does: a PaymentIntent whose charge failed takes a new payment
    method and is then ready to confirm again (`requires_confirmation`).
    localstripe keeps the failed charge, so the intent stays
    `requires_payment_method` and refuses a second confirmation."""
    update = intent_class._api_update.__func__

    def _api_update(cls, id, **data):
        intent = cls._api_retrieve(id)
        charge = intent.latest_charge
        if "payment_method" in data and charge is not None and charge.status == "failed":
            intent.latest_charge = None
            intent._authentication_failed = False
        return update(cls, id, **data)

    intent_class._api_update = classmethod(_api_update)


def main():
    port = int(sys.argv[1])
    in_memory_only(resources.Store)
    new_payment_method_after_a_decline(resources.PaymentIntent)
    resources.store.clear()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
