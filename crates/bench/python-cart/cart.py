"""GET /cart and POST /cart in Python: the work the AWS sample's cart
functions do, written for the side-by-side in `make bench` (function-bench), on
the sample's stack: boto3's table resource, Powertools' logger, a Cognito ID
token checked against the pool's keys. The caller's cart is the signed-in
user's, or the one its `cartId` cookie names. GET reads its lines with one
Query of the cart's partition; POST does what the Rust function does (the
sample itself adds with an unconditional ADD and checks no stock): the
product, its stock and the line in one BatchGetItem, then the line written on
condition that it is still the version read.

It is measured the way the Rust function is: the same event, the same stub
answering every AWS call, the same Runtime API on loopback.
"""

import json
import os
import time
import uuid
from decimal import Decimal
from http.cookies import SimpleCookie

import boto3
import jwt
from aws_lambda_powertools import Logger
from boto3.dynamodb.conditions import Key

logger = Logger(service="shopping-cart")
dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table(os.environ["TABLE_NAME"])
keys = jwt.PyJWKClient(os.environ["COGNITO_JWKS_URL"], cache_keys=True)
ISSUER = os.environ["COGNITO_ISSUER"]
CLIENT_ID = os.environ["COGNITO_CLIENT_ID"]
CART_TTL_SECS = 24 * 60 * 60
USER_CART_TTL_SECS = 7 * 24 * 60 * 60
MAX_LINE_QUANTITY = 100
WRITE_ATTEMPTS = 5


def as_json(value):
    """DynamoDB numbers come back as Decimal."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def header(event, name):
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def user_sub(token):
    token = token.removeprefix("Bearer ").strip()
    claims = jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=ISSUER,
        options={"require": ["exp", "iss", "aud", "sub"]},
    )
    if claims.get("token_use") != "id":
        raise jwt.InvalidTokenError("not an ID token")
    return claims["sub"]


def reply(status, body, cart_id=None):
    headers = {"Content-Type": "application/json"}
    if cart_id:
        cookie = SimpleCookie()
        cookie["cartId"] = cart_id
        cookie["cartId"].update({"max-age": CART_TTL_SECS, "secure": True, "httponly": True, "path": "/"})
        cookie["cartId"]["samesite"] = "Lax"
        headers["Set-Cookie"] = cookie["cartId"].OutputString()
    return {"statusCode": status, "headers": headers, "body": json.dumps(body, default=as_json)}


class Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def caller_cart(event):
    """The caller's cart partition and, for an anonymous caller, its cart id
    (a new one if the request has no cookie)."""
    token = header(event, "authorization")
    if token:
        try:
            return f"user#{user_sub(token)}", None
        except jwt.PyJWTError as e:
            raise Refused(401, f"invalid token: {e}") from e
    cookie = SimpleCookie(header(event, "cookie") or "")
    cart_id = cookie["cartId"].value if "cartId" in cookie else str(uuid.uuid4())
    try:
        uuid.UUID(cart_id)
    except ValueError as e:
        raise Refused(400, "cartId must be a UUID") from e
    return f"cart#{cart_id}", cart_id


def live(line, now):
    return line.get("quantity", 0) > 0 and line.get("expirationTime", 0) > now and "migratedTo" not in line


@logger.inject_lambda_context
def handler(event, context):
    try:
        partition, cart_id = caller_cart(event)
    except Refused as e:
        return reply(e.status, {"error": str(e)})
    lines = table.query(KeyConditionExpression=Key("pk").eq(partition) & Key("sk").begins_with("product#"))
    # As the sample (and the Rust function) answers: live lines only (TTL
    # deletes late), each with its product's details.
    now = int(time.time())
    products = [
        {"sk": line["sk"].removeprefix("product#"), "quantity": line["quantity"], "productDetail": line["productDetail"]}
        for line in lines.get("Items", [])
        if live(line, now)
    ]
    logger.info("cart read", extra={"partition": partition, "lines": len(products)})
    return reply(200, {"products": products}, cart_id)


@logger.inject_lambda_context
def add_to_cart(event, context):
    try:
        partition, cart_id = caller_cart(event)
        body = json.loads(event.get("body") or "{}")
        product_id, delta = str(uuid.UUID(body["productId"])), body["quantity"]
        if not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_LINE_QUANTITY:
            raise Refused(400, f"quantity must be a non-zero whole number up to {MAX_LINE_QUANTITY}")
    except (KeyError, ValueError, TypeError) as e:
        return reply(400, {"error": f"bad request: {e}"})
    except Refused as e:
        return reply(e.status, {"error": str(e)})
    product_pk, line_sk = f"product#{product_id}", f"product#{product_id}"
    keys = [{"pk": product_pk, "sk": "meta"}, {"pk": product_pk, "sk": "stock"}, {"pk": partition, "sk": line_sk}]
    for _ in range(WRITE_ATTEMPTS):
        now = int(time.time())
        found = dynamodb.batch_get_item(RequestItems={table.name: {"Keys": keys}})["Responses"].get(table.name, [])
        by_key = {(item["pk"], item["sk"]): item for item in found}
        product, stock = by_key.get((product_pk, "meta")), by_key.get((product_pk, "stock"))
        stored = by_key.get((partition, line_sk))
        if product is None:
            return reply(404, {"error": f"product {product_id} not found"})
        current = stored["quantity"] if stored and live(stored, now) else 0
        quantity = max(0, current + delta)
        if quantity > MAX_LINE_QUANTITY:
            return reply(400, {"error": f"a cart line holds at most {MAX_LINE_QUANTITY}"})
        available = stock["available"] if stock else 0
        if quantity > current and quantity > available:
            return reply(409, {"error": f"only {available} available", "available": available})
        detail = {k: v for k, v in product.items() if k not in ("pk", "sk", "catalog")}
        line = {"pk": partition, "sk": line_sk, "productId": product_id, "quantity": quantity,
                "productDetail": detail, "expirationTime": now + (CART_TTL_SECS if cart_id else USER_CART_TTL_SECS),
                "version": stored["version"] + 1 if stored else 1}
        condition = ({"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": stored["version"]}}
                     if stored else {"ConditionExpression": "attribute_not_exists(pk)"})
        try:
            table.put_item(Item=line, **condition)
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            continue
        logger.info("cart line written", extra={"partition": partition, "productId": product_id, "quantity": quantity})
        return reply(200, {"productId": product_id, "quantity": quantity, "message": "product added to cart"}, cart_id)
    return reply(409, {"error": "the cart changed concurrently; retry"})
