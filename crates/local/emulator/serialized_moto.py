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
query reads the one partition, as DynamoDB does, and an index query looks at
the items unsorted (moto sorts the matches itself).

It is served by waitress rather than moto's werkzeug server: werkzeug closes
every connection after one answer, so each SDK call paid a TCP connect that
AWS endpoints (which keep connections alive) do not cost, and the benchmarks
counted it as the handlers' own CPU time.

Usage: serialized_moto.py PORT   (binds 127.0.0.1 only)
"""

import io
import json
import os
import re
import sys
import threading
import time

import copy

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
import waitress

_dynamodb_lock = threading.Lock()


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


def query(self, hash_key, *args, **kwargs):
    """A query on the table's own key reads that one partition, as DynamoDB
    does. moto sorts every item of the table on every query, so a query's
    cost grew with the whole table (carts slowed as counted lines and orders
    piled up). An index query still looks at every item (moto keeps no index),
    but unsorted: moto sorts the matches by the index's keys anyway, so the
    answer is the same, without sorting the table first (GET /product took
    0.6 s under load on a table of a few thousand carts). (Requests hold the
    lock, so shadowing `all_items` for the call is safe.)"""
    # moto passes index_name as the 8th positional argument.
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if not self.range_key_attr or (hash_key is None and not index_name):
        return _moto_query(self, hash_key, *args, **kwargs)
    if index_name:
        items = [item for partition in self.items.values() for item in partition.values()]
    else:
        items = list(self.items.get(hash_key, {}).values())
    self.all_items = lambda: items
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query


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


def _refuse(start_response, message):
    body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ValidationException", "message": message})
    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
    return [body.encode()]


def serialize_dynamodb(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB"):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            problem = _expression_error(json.loads(raw or b"{}"))
        except ValueError:
            problem = None
        if problem:
            return _refuse(start_response, problem)
        with _dynamodb_lock:
            # Drain the body inside the lock: the work may happen lazily.
            return [b"".join(app(environ, start_response))]

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
