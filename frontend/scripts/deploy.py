"""Uploads the built storefront (frontend/dist) to the stack's bucket and
invalidates what changed: `make deploy-frontend` (STACK, REGION).

Cache headers: hashed files under assets/ never change (a year, immutable);
everything else, above all index.html and config.json, is revalidated on
every visit (no-cache), so a deploy shows at once. Old hashed assets stay in
the bucket: a page loaded before the deploy still finds its chunks.
config.json is written from the stack's outputs, so one build serves every
stack.

Usage: deploy.py STACK REGION DIST_DIR
"""

import json
import mimetypes
import pathlib
import sys

import boto3

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def outputs(cloudformation, stack):
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main():
    stack, region, dist = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    if not (dist / "index.html").exists():
        sys.exit(f"{dist}/index.html is missing: build the storefront first")
    session = boto3.Session(region_name=region)
    out = outputs(session.client("cloudformation"), stack)
    bucket, distribution = out["StorefrontBucketName"], out["StorefrontDistributionId"]
    s3 = session.client("s3")

    files = sorted(p for p in dist.rglob("*") if p.is_file())
    # Assets first, index.html last: a visitor never gets a page whose chunks are not there yet.
    files.sort(key=lambda p: (p.name == "index.html", p.relative_to(dist).parts[0] != "assets"))
    for path in files:
        key = path.relative_to(dist).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type, "CacheControl": cache})
        print(f"  {key} ({cache})")

    config = {
        "apiBase": "/api",
        "region": region,
        "userPoolId": out["UserPoolId"],
        "userPoolClientId": out["UserPoolClientId"],
    }
    if out.get("StripePublishableKey"):
        # The card form: Stripe.js from Stripe itself, as Stripe requires.
        config["stripe"] = {"publishableKey": out["StripePublishableKey"], "jsUrl": "https://js.stripe.com/v3/"}
    s3.put_object(
        Bucket=bucket,
        Key="config.json",
        Body=json.dumps(config).encode(),
        ContentType="application/json",
        CacheControl=REVALIDATE,
    )
    session.client("cloudfront").create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={
            "Paths": {"Quantity": 3, "Items": ["/", "/index.html", "/config.json"]},
            "CallerReference": f"deploy-{pathlib.Path(dist / 'index.html').stat().st_mtime_ns}",
        },
    )
    print(f"storefront deployed: {out['StorefrontUrl']}")


if __name__ == "__main__":
    main()
