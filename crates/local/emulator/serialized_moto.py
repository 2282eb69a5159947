"""moto in server mode, with every DynamoDB request serialized.

moto's DynamoDB backend is not atomic under concurrent requests: two conditional
writes can both pass their condition and oversell. Real DynamoDB serializes
writes per item, so this wrapper holds one lock around each DynamoDB and
DynamoDB Streams request. Everything else (SQS long polls above all) stays
concurrent.

moto also deep-copies every table a TransactWriteItems touches, to roll back a
cancelled transaction. That copy grows with the table and its stream and, under
a flash sale, took gigabytes. Here a transaction snapshots only the items it
names (and the stream's length) and restores those on failure instead.

And moto answers a query by sorting every item of the table; here a key
query reads the one partition, as DynamoDB does, and an index query reads the
one index partition: the wrapper keeps, per index, the items by their index
hash key, updated after every write from the keys the write names.

moto 5.2.1 lacks three Cognito calls that Amplify 6 makes; here they are:
GetTokensFromRefreshToken (every token refresh; it is InitiateAuth's
REFRESH_TOKEN_AUTH under another name), RevokeToken (sign-out) and
ResendConfirmationCode (the sign-up form's "Send a new code"); SignUp
says where the code went, and ConfirmForgotPassword holds the new password
to the pool's policy, as Cognito does.

And its TOTP MFA is a stand-in: one fixed secret for every user, and codes
checked only when an environment switch says so. Here, as in Cognito, each
AssociateSoftwareToken gives the user a new random secret, and
VerifySoftwareToken and the SOFTWARE_TOKEN_MFA sign-in challenge take only a
code of that secret (RFC 6238: 6 digits, 30 s, SHA-1; the step before and
after accepted for clock drift), so a wrong code is refused (`Totp`).

And it can contend the way DynamoDB does, which a serialized emulator never
would (off unless asked for; see `Contention`): per-partition write throughput
limits, of the table's partitions and of each global secondary index's,
answered with DynamoDB's throttling errors, and transactions that cancel each
other (`TransactionConflict`) while one still holds an item.

It is served by waitress rather than moto's werkzeug server: werkzeug closes
every connection after one answer, so each SDK call paid a TCP connect that
AWS endpoints (which keep connections alive) do not cost, and the benchmarks
counted it as the handlers' own CPU time.

Usage: serialized_moto.py PORT   (binds 127.0.0.1 only)
"""

import base64
import io
import json
import secrets
import os
import re
import sys
import threading
import time

import copy

import moto.backends as moto_backends
import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.cognitoidp.exceptions import CodeMismatchException, NotAuthorizedError, ResourceNotFoundError
from moto.cognitoidp.models import CognitoIdpBackend
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.cognitoidp.utils import cognito_totp
from cryptography.hazmat.primitives.twofactor import InvalidToken
from moto.core.responses import ActionResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
import waitress

_dynamodb_lock = threading.Lock()

# moto lists its own package directory on every request (to match the Host
# header against service names): a directory listing and a stat per module
# (docs/benchmarks.md has what it cost). The list never changes while it runs.
_MOTO_MODULES = tuple(moto_backends.list_of_moto_modules())
moto_backends.list_of_moto_modules = lambda: _MOTO_MODULES


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto's transaction code: tables
    are not copied; `transact_write_items` below rolls back what it touched."""

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _key_of(table, op):
    attrs = op["Item"] if "Item" in op else op["Key"]
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _put_back(table, hash_value, range_value, item):
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
    else:
        bucket = table.items[hash_value]
        if item is None:
            bucket.pop(range_value, None)
            if not bucket:
                table.items.pop(hash_value, None)
        else:
            bucket[range_value] = item


def transact_write_items(self, transact_items):
    try:
        touched = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            hash_value, range_value = _key_of(table, op)
            item = table.get_item(hash_value, range_value)
            touched.append((table, hash_value, range_value, copy.deepcopy(item)))
    except Exception:
        # Malformed request: let moto answer it its own way.
        return _moto_transact_write_items(self, transact_items)
    stream_lengths = {
        id(table): (table, len(table.stream_shard.items))
        for table, _, _, _ in touched
        if table.stream_shard is not None
    }
    dynamodb_models.copy = _CopyWithoutTables
    try:
        return _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_value, range_value, item in reversed(touched):
            _put_back(table, hash_value, range_value, item)
        for table, length in stream_lengths.values():
            del table.stream_shard.items[length:]
        raise
    finally:
        dynamodb_models.copy = copy


DynamoDBBackend.transact_write_items = transact_write_items


_moto_query = Table.query


class _IndexPartitions:
    """The items of each secondary index, by index hash key, for the tables
    that have been queried by index. Built once per table by a walk of its
    items, then kept by `after_write`, which re-files the items a write named
    (moto updates items in place and replaces them on put, so re-filing the
    current item by its key is always right). Requests hold the lock, so no
    two threads touch it at once."""

    def __init__(self):
        # table name -> (table, {index: hash attribute}, {index: {hash: {key: item}}}, {key: {index: hash}})
        self._tables = {}

    @staticmethod
    def _hash_attrs(table):
        return {
            index.name: hashes[0]["AttributeName"]
            for index in table.all_indexes()
            for hashes in [[k for k in index.schema if k["KeyType"] == "HASH"]]
            if len(hashes) == 1
        }

    def _state(self, table):
        state = self._tables.get(table.name)
        if state is None or state[0] is not table:
            hash_attrs = self._hash_attrs(table)
            state = (table, hash_attrs, {name: {} for name in hash_attrs}, {})
            self._tables[table.name] = state
            for hash_value, partition in table.items.items():
                items = partition.values() if table.range_key_attr else [partition]
                for item in items:
                    range_value = item.attrs.get(table.range_key_attr) if table.range_key_attr else None
                    self._file(state, (hash_value, range_value), item)
        return state

    @staticmethod
    def _file(state, key, item):
        _, hash_attrs, partitions, filed = state
        for index, hash_value in filed.pop(key, {}).items():
            partitions[index].get(hash_value, {}).pop(key, None)
        if item is None:
            return
        places = {}
        for index, attr in hash_attrs.items():
            hash_value = item.attrs.get(attr)
            if hash_value is not None:
                partitions[index].setdefault(hash_value, {})[key] = item
                places[index] = hash_value
        if places:
            filed[key] = places

    def items(self, table, index_name, hash_value):
        """The index partition's items, or None when this index is not kept."""
        _, _, partitions, _ = self._state(table)
        if index_name not in partitions or hash_value is None:
            return None
        return list(partitions[index_name].get(hash_value, {}).values())

    def after_write(self, request):
        """Re-files the items a write request named, in the tables kept."""
        for table_name, op in _written(request):
            state = self._tables.get(table_name)
            if state is None:
                continue
            table = state[0]
            try:
                hash_value, range_value = _key_of(table, op)
                item = table.get_item(hash_value, range_value)
            except Exception:
                continue  # malformed: moto refused the write anyway
            self._file(state, (hash_value, range_value), item)


def _written(request):
    """(table name, operation) for each item a write request names."""
    if "TransactItems" in request:
        for entry in request["TransactItems"]:
            for op in entry.values():
                yield op.get("TableName"), op
    elif "RequestItems" in request:
        for table_name, writes in request["RequestItems"].items():
            for write in writes:
                for op in write.values():
                    yield table_name, op
    elif "Item" in request or "Key" in request:
        yield request.get("TableName"), request


_index_partitions = _IndexPartitions()
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def query(self, hash_key, *args, **kwargs):
    """A query reads one partition, of the table or of an index, as DynamoDB
    does. moto sorts every item of the table on every query, so a query's
    cost grew with the whole table (carts slowed as counted lines and orders
    piled up, and the catalog's index query as carts did). moto then filters
    and sorts what it is given, so the answer is the same. (Requests hold the
    lock, so shadowing `all_items` for the call is safe.)"""
    # moto passes index_name as the 8th positional argument.
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if not self.range_key_attr or (hash_key is None and not index_name):
        return _moto_query(self, hash_key, *args, **kwargs)
    if index_name:
        items = _index_partitions.items(self, index_name, hash_key)
        if items is None:
            items = [item for partition in self.items.values() for item in partition.values()]
    else:
        items = list(self.items.get(hash_key, {}).values())
    self.all_items = lambda: items
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query


def get_tokens_from_refresh_token(self):
    """GetTokensFromRefreshToken: InitiateAuth's REFRESH_TOKEN_AUTH."""
    result = self._get_region_agnostic_backend().initiate_auth(
        self._get_param("ClientId"), "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": self._get_param("RefreshToken")}
    )
    return ActionResult(result)


def revoke_token(self):
    """RevokeToken: the refresh token stops working (moto then refuses it as
    NotAuthorized, as Cognito does a revoked one)."""
    token, client_id = self._get_param("Token"), self._get_param("ClientId")
    backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
    for pool in backend.user_pools.values():
        issued = pool.refresh_tokens.get(token)
        if issued is not None and issued[0] == client_id:
            pool.refresh_tokens[token] = None
    return ActionResult({})


CognitoIdpResponse.get_tokens_from_refresh_token = get_tokens_from_refresh_token
def _code_delivery(self, client_id, username):
    """Where Cognito sends a sign-up code: the user's email, masked as Cognito
    masks it (`a***@e***`). The local pool sends nothing (ConfirmSignUp takes
    any code); with PreventUserExistenceErrors (the template's), an unknown
    user gets the same kind of answer."""
    backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
    email = None
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            user = pool._get_user(username)
            email = next((a["Value"] for a in (user.attributes if user else []) if a["Name"] == "email"), None)
    local, _, domain = (email or f"{username}@example.com").partition("@")
    return {"Destination": f"{local[:1]}***@{domain[:1]}***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def resend_confirmation_code(self):
    """ResendConfirmationCode: where the new code went."""
    client_id, username = self._get_param("ClientId"), self._get_param("Username")
    return ActionResult({"CodeDeliveryDetails": _code_delivery(self, client_id, username)})


_moto_sign_up = CognitoIdpResponse.sign_up


def sign_up(self):
    """SignUp, answering where the confirmation code went, as Cognito does
    (moto answers without it)."""
    answer = _moto_sign_up(self)
    result = answer.result if hasattr(answer, "result") else None
    if isinstance(result, dict) and not result.get("UserConfirmed") and "CodeDeliveryDetails" not in result:
        result["CodeDeliveryDetails"] = _code_delivery(self, self._get_param("ClientId"), self._get_param("Username"))
    return answer


_moto_confirm_forgot_password = CognitoIdpBackend.confirm_forgot_password


def confirm_forgot_password(self, client_id, username, password, confirmation_code):
    """ConfirmForgotPassword holds the new password to the pool's policy, as
    Cognito does (moto sets any password)."""
    for pool in self.user_pools.values():
        if client_id in pool.clients:
            self._validate_password(pool.id, password)
    return _moto_confirm_forgot_password(self, client_id, username, password, confirmation_code)


CognitoIdpBackend.confirm_forgot_password = confirm_forgot_password
CognitoIdpResponse.revoke_token = revoke_token
CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code
CognitoIdpResponse.sign_up = sign_up


class Totp:
    """Per-user TOTP secrets, as Cognito keeps them: a new secret for every
    AssociateSoftwareToken (pending until a code of it is verified), and only
    codes of the verified secret answer the sign-in challenge."""

    STEP = 30

    def __init__(self):
        self.pending = {}  # (pool id, username) -> secret
        self.active = {}

    @staticmethod
    def new_secret():
        # 160 random bits, base32: 32 characters, like Cognito's.
        return base64.b32encode(secrets.token_bytes(20)).decode()

    @classmethod
    def accepts(cls, secret, code, now=None):
        if not secret or not isinstance(code, str) or len(code) != 6 or not code.isdigit():
            return False
        totp = cognito_totp(secret)
        now = int(time.time()) if now is None else now
        for drift in (-cls.STEP, 0, cls.STEP):
            try:
                totp.verify(code.encode(), now + drift)
                return True
            except InvalidToken:
                pass
        return False


_totp = Totp()


def _user_of(backend, access_token, session):
    """(pool, user) behind an access token or a sign-in session."""
    if session:
        if session not in backend.sessions:
            raise ResourceNotFoundError(session)
        username, pool = backend.sessions[session]
        return pool, backend.admin_get_user(pool.id, username)
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            _, username = pool.access_tokens[access_token]
            return pool, backend.admin_get_user(pool.id, username)
    raise NotAuthorizedError(access_token)


_moto_associate_software_token = CognitoIdpBackend.associate_software_token
_moto_verify_software_token = CognitoIdpBackend.verify_software_token
_moto_respond_to_auth_challenge = CognitoIdpBackend.respond_to_auth_challenge


def associate_software_token(self, access_token, session):
    answer = _moto_associate_software_token(self, access_token, session)
    pool, user = _user_of(self, access_token, session)
    secret = Totp.new_secret()
    _totp.pending[(pool.id, user.username)] = secret
    return {**answer, "SecretCode": secret}


def verify_software_token(self, access_token, session, user_code, friendly_device_name):
    pool, user = _user_of(self, access_token, session)
    secret = _totp.pending.get((pool.id, user.username))
    if not Totp.accepts(secret, user_code):
        raise CodeMismatchException("Invalid code received for user")
    answer = _moto_verify_software_token(self, access_token, session, user_code, friendly_device_name)
    _totp.active[(pool.id, user.username)] = _totp.pending.pop((pool.id, user.username))
    return answer


def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
    if challenge_name == "SOFTWARE_TOKEN_MFA" and session in self.sessions:
        username, pool = self.sessions[session]
        code = (challenge_responses or {}).get("SOFTWARE_TOKEN_MFA_CODE")
        if not Totp.accepts(_totp.active.get((pool.id, username)), code):
            raise CodeMismatchException("Invalid code received for user")
    return _moto_respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses)


CognitoIdpBackend.associate_software_token = associate_software_token
CognitoIdpBackend.verify_software_token = verify_software_token
CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge


_RESERVED = frozenset(
    line.strip().upper()
    for line in open(os.path.join(os.path.dirname(dynamodb_models.__file__), "..", "parsing", "reserved_keywords.txt"))
    if line.strip()
)
# Words of the expression grammar itself, which are reserved too.
_SYNTAX = frozenset(
    "AND OR NOT BETWEEN IN SET REMOVE ADD DELETE ATTRIBUTE_EXISTS ATTRIBUTE_NOT_EXISTS ATTRIBUTE_TYPE "
    "BEGINS_WITH CONTAINS SIZE IF_NOT_EXISTS LIST_APPEND".split()
)
_NAME = re.compile(r"(?<![#:\w.])([A-Za-z_][A-Za-z0-9_]*)")
_EXPRESSIONS = (
    "KeyConditionExpression",
    "FilterExpression",
    "ConditionExpression",
    "ProjectionExpression",
    "UpdateExpression",
)


def _expression_error(request):
    """What real DynamoDB would refuse in the request's expressions: a reserved
    word used as a bare name, or an unused expression attribute name or value."""
    operations = [request] + [
        op for entry in request.get("TransactItems", []) if isinstance(entry, dict) for op in entry.values()
    ]
    for op in operations:
        if not isinstance(op, dict):
            continue
        used = ""
        for field in _EXPRESSIONS:
            expression = op.get(field)
            if not isinstance(expression, str):
                continue
            used += " " + expression
            for word in _NAME.findall(expression):
                if word.upper() in _RESERVED and word.upper() not in _SYNTAX:
                    return f"Invalid {field}: Attribute name is a reserved keyword; reserved keyword: {word}"
        tokens = set(re.findall(r"[#:][A-Za-z0-9_]+", used))
        for placeholder in list(op.get("ExpressionAttributeNames") or {}) + list(op.get("ExpressionAttributeValues") or {}):
            if placeholder not in tokens:
                kind = "names" if placeholder.startswith("#") else "values"
                return f"Value provided in ExpressionAttribute{kind.capitalize()} unused in expressions: keys: {{{placeholder}}}"
    return None


_THROTTLED_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
_THROTTLING_REASON = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
    "scaling your table or index so please try again shortly. If exceptions persist, check if you "
    "have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
_CONFLICT_MESSAGE = "Transaction is ongoing for the item"


class Contention:
    """DynamoDB's contention, modelled (requests here are serialized, so
    nothing would ever conflict or throttle otherwise):

    - Each partition (table and partition key value) takes `wcu` write units a
      second: a token bucket holding one second's worth. A write costs 1 unit
      per item, a transaction 2 per item it writes (a condition check none).
      A write that finds too few units is refused and consumes nothing: a
      single write with ProvisionedThroughputExceededException (which the SDKs
      retry), a transaction with TransactionCanceledException whose reason for
      the item is ThrottlingError (which they do not).
    - So does each partition of each global secondary index (the index and
      its partition key value, `<index>/<value>` in the settings), as
      DynamoDB limits them "independently" and a GSI short of write capacity
      throttles the table's write (developerguide/GSI.html#GSI.Writes): a
      write that puts, changes or deletes an index item costs that index
      partition 1 unit per KB of the item, and 2 writes when it moves the item
      to another index key (a delete and a put). An update changes an index
      item when it writes an index key or a projected attribute (ALL: any). A
      refusal for an index says so (`ThrottlingReasons`:
      IndexWriteKeyRangeThroughputExceeded). Index units are spent only when
      the write went through (a failed condition writes no index item).
    - A transaction holds the items it names for `transaction_ms` after it
      runs (DynamoDB's transactions take that long in flight): another
      transaction naming one of them is cancelled with TransactionConflict for
      it, a single write to it gets TransactionConflictException.

    Settings: SHOP_EMULATOR_PARTITION_WCU and SHOP_EMULATOR_TRANSACTION_MS (0 or
    unset: off) for every partition; `POST /_shop/contention` with
    `{"prefix": "product#p1", "wcu": 10, "transactionMs": 20}` sets them for
    the partitions whose key starts with the prefix (longest prefix wins;
    `{"reset": true}` clears every override). `GET /_shop/contention` answers
    the settings, how many writes it refused (`throttled`, of which
    `indexThrottled` for an index partition; `conflicts`) and how many index
    items the writes put or deleted per index (`indexWrites`).
    """

    def __init__(self, wcu, transaction_ms):
        self.default = {"wcu": wcu, "transactionMs": transaction_ms}
        self.overrides = {}
        self.buckets = {}
        self.held = {}
        self.counts = {"throttled": 0, "indexThrottled": 0, "conflicts": 0}
        self.index_writes = {}

    def settings(self, partition):
        best = None
        for prefix in self.overrides:
            if partition.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return self.overrides[best] if best is not None else self.default

    def control(self, body):
        if body.get("reset"):
            self.overrides.clear()
            self.buckets.clear()
            self.held.clear()
            return
        if body.get("resetCounts"):
            self.counts = {name: 0 for name in self.counts}
            self.index_writes = {}
            return
        self.overrides[str(body["prefix"])] = {
            "wcu": float(body.get("wcu", 0)),
            "transactionMs": float(body.get("transactionMs", 0)),
        }

    def _has_units(self, partition, cost, now):
        wcu = self.settings(partition[1])["wcu"]
        if not wcu:
            return True
        tokens, last = self.buckets.get(partition, (wcu, now))
        tokens = min(wcu, tokens + (now - last) * wcu)
        self.buckets[partition] = (tokens, now)
        return tokens >= cost

    def _spend(self, partition, cost):
        if partition in self.buckets:
            tokens, last = self.buckets[partition]
            self.buckets[partition] = (tokens - cost, last)

    def refusal(self, operation, request):
        """The error DynamoDB would answer instead (or None), and the index
        writes to spend if the write goes through (`wrote`). Called under the
        lock."""
        if operation not in _WRITES or not isinstance(request, dict):
            return None, []
        now = time.monotonic()
        transaction = operation == "TransactWriteItems"
        named = []  # (item key, write units, [(index partition, units)])
        for kind, table_name, op in _named_items(operation, request):
            key = _item_key(table_name, op)
            if key is None:
                return None, []  # malformed: moto answers it
            units = 0 if kind == "ConditionCheck" else 2 if transaction else 1
            named.append((key, units, _index_writes(table_name, kind, op) if units else []))
        cost = {}  # partition -> the units the request writes there
        index_cost = {}  # (table, "<index>/<value>") -> units
        for (table_name, partition, _), units, index_writes in named:
            cost[(table_name, partition)] = cost.get((table_name, partition), 0) + units
            for index_partition, index_units in index_writes:
                index_cost[index_partition] = index_cost.get(index_partition, 0) + index_units
        for key, until in list(self.held.items()):
            if until <= now:
                del self.held[key]
        short = {p for p, units in cost.items() if units and not self._has_units(p, units, now)}
        short_index = {p for p, units in index_cost.items() if not self._has_units(p, units, now)}
        reasons = []
        index_short = False
        for key, units, index_writes in named:
            if key in self.held:
                reasons.append("TransactionConflict")
            elif units and key[:2] in short:
                reasons.append("ThrottlingError")
            elif any(p in short_index for p, _ in index_writes):
                reasons.append("ThrottlingError")
                index_short = True
            else:
                reasons.append(None)
        if any(reasons):
            conflict = "TransactionConflict" in reasons
            self.counts["conflicts" if conflict else "throttled"] += 1
            if index_short and not conflict and not short:
                self.counts["indexThrottled"] += 1
            if transaction:
                return _cancelled(reasons), []
            if conflict:
                return _error("TransactionConflictException", _CONFLICT_MESSAGE), []
            resource = next((p for p in short_index), None) if index_short and not short else None
            return _throttled(named[0][0][0], resource), []
        for partition, units in cost.items():
            self._spend(partition, units)
        if transaction:
            for key, _, _ in named:
                hold = self.settings(key[1])["transactionMs"]
                if hold:
                    self.held[key] = now + hold / 1000.0
        return None, list(index_cost.items())

    def wrote(self, index_cost):
        """A write went through: its index items were written."""
        for partition, units in index_cost:
            self._spend(partition, units)
            index = partition[1].split("/", 1)[0]
            self.index_writes[index] = self.index_writes.get(index, 0) + units


def _named_items(operation, request):
    """(kind, table name, operation) for each item a write request names."""
    if operation == "TransactWriteItems":
        for entry in request.get("TransactItems", []):
            for kind, op in entry.items():
                yield kind, op.get("TableName"), op
    elif operation == "BatchWriteItem":
        for table_name, writes in request.get("RequestItems", {}).items():
            for write in writes:
                for kind, op in write.items():
                    yield kind, table_name, op
    else:
        yield operation, request.get("TableName"), request


_key_names = {}


def _key_attribute_names(table_name):
    """The table's (hash, range) key attribute names, from moto's backends."""
    if table_name not in _key_names:
        table = _table(table_name)
        if table is not None:
            _key_names[table_name] = (table.hash_key_attr, table.range_key_attr)
    return _key_names.get(table_name)


def _item_key(table_name, op):
    """(table, partition key value, sort key value) as text, or None."""
    names = _key_attribute_names(table_name) if isinstance(table_name, str) else None
    attrs = op.get("Item") or op.get("Key") if isinstance(op, dict) else None
    if names is None or not isinstance(attrs, dict):
        return None
    values = []
    for name in names:
        value = attrs.get(name) if name else None
        values.append(str(next(iter(value.values()))) if isinstance(value, dict) and value else "")
    return (table_name, values[0], values[1])


def _table(table_name):
    from moto.dynamodb.models import dynamodb_backends

    for regions in dynamodb_backends.values():
        for backend in regions.values():
            table = backend.tables.get(table_name)
            if table is not None:
                return table
    return None


_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)


def _top_level(text):
    """`text` split at the commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


def _attribute(path, names):
    """The top-level attribute a document path names (`#n` resolved)."""
    head = re.split(r"[.\[]", path.strip(), maxsplit=1)[0]
    return names.get(head, head)


def _update_effects(op):
    """An UpdateItem's written attribute names, and for those it sets to a
    value placeholder or removes, the value after (None: removed)."""
    names = op.get("ExpressionAttributeNames") or {}
    values = op.get("ExpressionAttributeValues") or {}
    pieces = _CLAUSE.split(op.get("UpdateExpression") or "")
    written, after = set(), {}
    for clause, body in zip(pieces[1::2], pieces[2::2]):
        for part in _top_level(body):
            if not part.strip():
                continue
            clause_name = clause.upper()
            if clause_name == "SET":
                target, _, value = part.partition("=")
                name = _attribute(target, names)
                value = value.strip()
                if value in values:
                    after[name] = DynamoType(values[value])
            else:
                name = _attribute(part.split()[0], names)
                if clause_name == "REMOVE":
                    after[name] = None
            written.add(name)
    return written, after


def _index_writes(table_name, kind, op):
    """((table, "<index>/<hash value>"), units) for each index item a write of
    one item puts or deletes: DynamoDB's rule (developerguide/GSI.html#GSI.Writes)
    as far as the request and the stored item tell it."""
    table = _table(table_name)
    if table is None or not table.global_indexes:
        return []
    try:
        old = table.get_item(*_key_of(table, op))
    except Exception:
        return []
    old_attrs = dict(old.attrs) if old is not None else {}
    if "Item" in op:  # a put replaces the whole item
        new_attrs = {name: DynamoType(value) for name, value in op["Item"].items()}
        written = set(old_attrs) | set(new_attrs)
        known = written
        size = sum(len(name) + value.size() for name, value in new_attrs.items())
    elif "UpdateExpression" in op:
        written, after = _update_effects(op)
        known = set(after)
        new_attrs = dict(old_attrs)
        for name, value in after.items():
            if value is None:
                new_attrs.pop(name, None)
            else:
                new_attrs[name] = value
        if old is None:  # an update that creates the item holds only what it set
            new_attrs = {name: value for name, value in after.items() if value is not None}
        size = old.size() if old is not None else 100
    else:  # a delete
        if old is None:
            return []
        new_attrs, written, size = {}, set(old_attrs), old.size()
        known = written
    units = max(1, -(-size // 1024))
    writes = []
    for index in table.global_indexes:
        keys = [k["AttributeName"] for k in index.schema]
        hash_attr = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
        before = old_attrs.get(hash_attr) if all(k in old_attrs for k in keys) else None
        now = new_attrs.get(hash_attr) if all(k in new_attrs for k in keys) else None
        if before is None and now is None:
            continue
        projection = (index.projection or {}).get("ProjectionType", "ALL")
        projected = set(keys) | set(index.table_key_attrs) | set((index.projection or {}).get("NonKeyAttributes", []))
        changes = written if projection == "ALL" else written & projected
        if before is not None and now is not None:
            # A key written with a computed value (`sold = sold + :n`) counts as moved.
            moved = before != now or any(
                k in written and (k not in known or old_attrs.get(k) != new_attrs.get(k)) for k in keys
            )
            if moved:
                # The index key moved: the old index item deleted, the new one put.
                writes.append(((table_name, f"{index.name}/{before.value}"), units))
                writes.append(((table_name, f"{index.name}/{now.value}"), units))
            elif changes:
                writes.append(((table_name, f"{index.name}/{before.value}"), units))
        else:
            value = before if before is not None else now
            writes.append(((table_name, f"{index.name}/{value.value}"), units))
    return writes


def _throttled(table_name, index_partition):
    """A single write's throttling answer, with DynamoDB's throttling reason."""
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table_name}"
    if index_partition is not None:
        reason = "IndexWriteKeyRangeThroughputExceeded"
        arn += "/index/" + index_partition[1].split("/", 1)[0]
    else:
        reason = "TableWriteKeyRangeThroughputExceeded"
    status, body = _error("ProvisionedThroughputExceededException", _THROTTLED_MESSAGE)
    body["ThrottlingReasons"] = [{"reason": reason, "resource": arn}]
    return status, body


def _error(kind, message):
    return "400 Bad Request", {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message}


def _cancelled(reasons):
    listed = ", ".join(r or "None" for r in reasons)
    messages = {"TransactionConflict": _CONFLICT_MESSAGE, "ThrottlingError": _THROTTLING_REASON}
    return "400 Bad Request", {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{listed}]",
        "CancellationReasons": [
            {"Code": r, "Message": messages[r]} if r else {"Code": "None"} for r in reasons
        ],
    }


_contention = Contention(
    float(os.environ.get("SHOP_EMULATOR_PARTITION_WCU") or 0),
    float(os.environ.get("SHOP_EMULATOR_TRANSACTION_MS") or 0),
)


def _contention_control(environ, start_response):
    if environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with _dynamodb_lock:
            _contention.control(body)
    with _dynamodb_lock:
        answer = {
            "default": _contention.default,
            "overrides": _contention.overrides,
            **_contention.counts,
            "indexWrites": _contention.index_writes,
        }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


def _refuse(start_response, message):
    body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ValidationException", "message": message})
    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
    return [body.encode()]


def serialize_dynamodb(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/_shop/contention":
            return _contention_control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB"):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            request = {}
        problem = _expression_error(request) if isinstance(request, dict) else None
        if problem:
            return _refuse(start_response, problem)
        with _dynamodb_lock:
            refused, index_cost = _contention.refusal(target.split(".")[-1], request)
            if refused is not None:
                status, answer = refused
                start_response(status, [("Content-Type", "application/x-amz-json-1.0")])
                return [json.dumps(answer).encode()]
            answered = []

            def record_status(status, headers, *rest):
                answered.append(status)
                return start_response(status, headers, *rest)

            # Drain the body inside the lock: the work may happen lazily.
            body = b"".join(app(environ, record_status))
            if target.split(".")[-1] in _WRITES and isinstance(request, dict):
                _index_partitions.after_write(request)
                if answered and answered[0].startswith("200"):
                    _contention.wrote(index_cost)
            return [body]

    return wrapped


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
    # Threads: SQS long polls hold one each, while DynamoDB waits on its lock.
    # Idle connections stay open longer than the SDK's pool keeps them (90 s),
    # so a client never sends on a connection the server is closing.
    server = waitress.create_server(
        app, host="127.0.0.1", port=port, threads=32, connection_limit=1000, channel_timeout=600
    )
    print(f"emulator listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
