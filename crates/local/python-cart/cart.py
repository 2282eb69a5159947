"""GET /cart in Python: the work the AWS sample's cart function does, written
for the side-by-side in `make bench` (function-bench), on the sample's stack:
boto3's table resource, Powertools' logger, a Cognito ID token checked against
the pool's keys. The caller's cart is the signed-in user's, or the one its
`cartId` cookie names; its lines are one Query of the cart's partition.

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
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
keys = jwt.PyJWKClient(os.environ["COGNITO_JWKS_URL"], cache_keys=True)
ISSUER = os.environ["COGNITO_ISSUER"]
CLIENT_ID = os.environ["COGNITO_CLIENT_ID"]
CART_TTL_SECS = 24 * 60 * 60


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


@logger.inject_lambda_context
def handler(event, context):
    token = header(event, "authorization")
    cart_id = None
    if token:
        try:
            partition = f"user#{user_sub(token)}"
        except jwt.PyJWTError as e:
            return reply(401, {"error": f"invalid token: {e}"})
    else:
        cookie = SimpleCookie(header(event, "cookie") or "")
        if "cartId" in cookie:
            cart_id = cookie["cartId"].value
            try:
                uuid.UUID(cart_id)
            except ValueError:
                return reply(400, {"error": "cartId must be a UUID"})
        else:
            cart_id = str(uuid.uuid4())
            return reply(200, {"products": []}, cart_id)
        partition = f"cart#{cart_id}"
    lines = table.query(KeyConditionExpression=Key("pk").eq(partition) & Key("sk").begins_with("product#"))
    # As the sample (and the Rust function) answers: live lines only (TTL
    # deletes late), each with its product's details.
    now = int(time.time())
    products = [
        {"sk": line["sk"].removeprefix("product#"), "quantity": line["quantity"], "productDetail": line["productDetail"]}
        for line in lines.get("Items", [])
        if line.get("quantity", 0) > 0 and line.get("expirationTime", 0) > now and "migratedTo" not in line
    ]
    logger.info("cart read", extra={"partition": partition, "lines": len(products)})
    return reply(200, {"products": products}, cart_id)
