"""How long the emulator takes for the storefront's index queries (the catalog's
first page, the best sellers) on a table that also holds many cart lines, for
two versions of the wrapper side by side in one run: `make bench-emulator`.

Usage: bench_index_query.py BEFORE_SCRIPT AFTER_SCRIPT [CART_LINES] [QUERIES]
Prints p50 and p99 per query and wrapper, and after/before ratios.
"""

import json
import socket
import statistics
import subprocess
import sys
import time
import uuid

import boto3

TABLE = "shop-bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script):
    port = free_port()
    process = subprocess.Popen([sys.executable, script, str(port)], stdout=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{script} did not listen")


def client(port):
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def gsi(name, hash_attr, range_attr):
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": hash_attr, "KeyType": "HASH"}, {"AttributeName": range_attr, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }


def fill(dynamodb, cart_lines):
    """The template's table shape (the two indexes these queries use), the 48
    seeded products with their stock items, and `cart_lines` cart lines."""
    attrs = ["pk", "sk", "catalog", "productId", "bestsellerList", "sold"]
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "N" if a == "sold" else "S"} for a in attrs
        ],
        GlobalSecondaryIndexes=[gsi("catalog-index", "catalog", "productId"), gsi("bestseller-index", "bestsellerList", "sold")],
    )
    products = json.load(open("crates/local/seed/products.json"))
    items = []
    for n, p in enumerate(products):
        pid = p["productId"]
        items.append({"pk": {"S": f"product#{pid}"}, "sk": {"S": "meta"}, "catalog": {"S": "catalog"},
                      "productId": {"S": pid}, "name": {"S": p["name"]}, "price": {"N": str(p["price"])}})
        items.append({"pk": {"S": f"product#{pid}"}, "sk": {"S": "stock"}, "bestsellerList": {"S": "stock"},
                      "productId": {"S": pid}, "sold": {"N": str(n)}, "available": {"N": "50"}})
    for n in range(cart_lines):
        pid = products[n % len(products)]["productId"]
        items.append({"pk": {"S": f"cart#{uuid.uuid4()}"}, "sk": {"S": f"product#{pid}"},
                      "quantity": {"N": "1"}, "expirationTime": {"N": str(int(time.time()) + 86400)}})
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]})


QUERIES = {
    "catalog page (GET /product)": dict(IndexName="catalog-index", KeyConditionExpression="#catalog = :c",
                                        ExpressionAttributeNames={"#catalog": "catalog"}, ExpressionAttributeValues={":c": {"S": "catalog"}}, Limit=20),
    "best sellers (GET /bestsellers)": dict(IndexName="bestseller-index", KeyConditionExpression="bestsellerList = :b",
                                            ExpressionAttributeValues={":b": {"S": "stock"}}, Limit=8,
                                            ScanIndexForward=False),
    # The floor: one item by its key, which no wrapper change touches.
    "GetItem (reference)": dict(Key={"pk": {"S": "product#ae518e73-b734-56bb-98bc-70185a5f2652"}, "sk": {"S": "meta"}}),
}


def timings(dynamodb, query, count):
    spent = []
    for _ in range(count):
        began = time.perf_counter()
        if "Key" in query:
            dynamodb.get_item(TableName=TABLE, **query)
        else:
            dynamodb.query(TableName=TABLE, **query)
        spent.append((time.perf_counter() - began) * 1000)
    spent.sort()
    return statistics.median(spent), spent[int(len(spent) * 0.99) - 1]


def main():
    before, after = sys.argv[1], sys.argv[2]
    cart_lines = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    results = {}
    for label, script in (("before", before), ("after", after)):
        process, port = start(script)
        try:
            dynamodb = client(port)
            fill(dynamodb, cart_lines)
            for name, query in QUERIES.items():
                timings(dynamodb, query, 10)  # warm up
                results[(label, name)] = timings(dynamodb, query, count)
        finally:
            process.terminate()
            process.wait()
    print(f"index queries on a table of 96 catalog items and {cart_lines} cart lines, {count} queries each (ms)")
    for name in QUERIES:
        b, a = results[("before", name)], results[("after", name)]
        print(f"  {name:32} before p50 {b[0]:7.2f} p99 {b[1]:7.2f} | after p50 {a[0]:6.2f} p99 {a[1]:6.2f}"
              f" | after/before p50 {a[0] / b[0]:.3f}")


if __name__ == "__main__":
    main()
