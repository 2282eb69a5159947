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
import pathlib
import re
import sys

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError
from localstripe.server import app, get_post_data, json_response

STRIPE_JS = pathlib.Path(__file__).with_name("stripe-js-local.js")
BROWSER_CONFIRM = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")


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


@web.middleware
async def browser_confirmation(request, handler):
    """What localstripe lacks for the storefront, as Stripe does it:

    - `GET /js.stripe.com/v3/` serves `stripe-js-local.js`, whose
      `confirmCardPayment` sends the card (localstripe's own script does not);
    - `POST /v1/payment_intents/{id}/confirm` with the publishable key and the
      intent's client secret (Stripe.js's call from the browser) confirms it
      with the card in `payment_method_data`; localstripe takes only the
      secret key there, and no card."""
    if request.method == "GET" and request.path.rstrip("/") == "/js.stripe.com/v3":
        return web.Response(text=STRIPE_JS.read_text(), content_type="application/javascript")
    match = BROWSER_CONFIRM.match(request.path)
    if request.method != "POST" or not match:
        return await handler(request)
    data = await get_post_data(request, remove_auth=False)
    key = data.get("key") if isinstance(data, dict) else None
    if not (isinstance(key, str) and key.startswith("pk_")):
        return await handler(request)  # the server's own call, with the secret key
    try:
        intent = resources.PaymentIntent._api_retrieve(match.group(1))
        if data.get("client_secret") != intent.client_secret:
            raise UserError(401, "Unauthorized")
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, "Bad request")
        method_data = data.get("payment_method_data") or {}
        method = resources.PaymentMethod._api_create(type="card", card=method_data.get("card"))
        intent.payment_method = method.id
        intent.latest_charge = None
        intent._authentication_failed = False
        intent._confirm(on_failure_now=intent._report_failure)
        return json_response(intent._export())
    except UserError as error:
        return error.to_response()


def main():
    port = int(sys.argv[1])
    in_memory_only(resources.Store)
    new_payment_method_after_a_decline(resources.PaymentIntent)
    app.middlewares.insert(0, browser_confirmation)
    resources.store.clear()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
