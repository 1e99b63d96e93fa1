"""Images in object storage: a real S3-compatible server (moto's server mode) on loopback.

gunicorn runs with AWS_STORAGE_BUCKET_NAME and friends, so uploads go to the bucket through
django-storages; nginx runs deploy/nginx/funsun.conf with its /media/ block replaced by
deploy/nginx/media-s3.conf, exactly as the README tells an operator to do. The API keeps
answering "/media/<name>" paths (the app prefixes its base URL); fetching such a path
through nginx returns the object from the bucket. Deleting removes the object.
"""

import io
import json
import sys

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from tests.deploy.conftest import (
    DEPLOY,
    Service,
    app_env,
    bearer,
    free_port,
    funding_form,
    migrated_sqlite,
    png_bytes,
    replace_exactly,
    signup,
    start_gunicorn,
    start_nginx,
)

pytestmark = pytest.mark.s3

BUCKET = "funsun-media"
LOCATION = "uploads"
REGION = "ap-northeast-2"
KEYS = {"AWS_ACCESS_KEY_ID": "moto-test-key", "AWS_SECRET_ACCESS_KEY": "moto-test-secret"}


@pytest.fixture(scope="module")
def s3_server(processes, tmp_path_factory) -> Service:
    folder = tmp_path_factory.mktemp("moto")
    port = free_port()
    server = processes(
        Service(
            name="moto",
            argv=[sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env={**app_env(), **KEYS},
            log_path=folder / "moto.log",
            base_url=f"http://127.0.0.1:{port}",
        )
    )
    server.wait_ready(f"{server.base_url}/moto-api/")
    return server


@pytest.fixture(scope="module")
def bucket(s3_server):
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server.base_url,
        region_name=REGION,
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    # What the README asks of a bucket: anyone may read an object, nobody may list.
    s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{BUCKET}/*",
                    }
                ],
            }
        ),
    )
    return s3


@pytest.fixture(scope="module")
def stack(processes, static_root, s3_server, bucket, tmp_path_factory):
    folder = tmp_path_factory.mktemp("s3-stack")
    empty_media = folder / "no-media-on-disk"
    empty_media.mkdir()
    env = app_env(
        DATABASE_URL=migrated_sqlite(folder),
        STATIC_ROOT=static_root,
        MEDIA_ROOT=empty_media,
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=s3_server.base_url,
        AWS_S3_REGION_NAME=REGION,
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_LOCATION=LOCATION,
        SERVE_MEDIA="false",
        NUM_PROXIES="1",
        **KEYS,
    )
    app = start_gunicorn(processes, "gunicorn", folder, env)
    media_block = replace_exactly(
        (DEPLOY / "nginx" / "media-s3.conf").read_text(),
        "https://s3.example.com/funsun-media/",
        f"{s3_server.base_url}/{BUCKET}/{LOCATION}/",
        "deploy/nginx/media-s3.conf",
    )
    nginx = start_nginx(
        processes,
        folder / "nginx",
        app=app,
        static_root=static_root,
        media_root=empty_media,
        media_block=media_block,
    )
    return {"app": app, "nginx": nginx, "s3": bucket, "media_root": empty_media}


@pytest.fixture
def client(stack):
    nginx = stack["nginx"]
    with httpx.Client(base_url=nginx.base_url, verify=nginx.extra["tls"], timeout=30) as c:
        yield c


def object_key(image_path: str) -> str:
    assert image_path.startswith("/media/"), f"not a site-relative media path: {image_path}"
    return f"{LOCATION}/{image_path.removeprefix('/media/')}"


def in_bucket(s3, key: str) -> bool:
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in {"404", "NoSuchKey"}:
            return False
        raise
    return True


def assert_served_from_bucket(stack, client, image_path: str, headers: dict, size) -> None:
    key = object_key(image_path)
    stored = stack["s3"].get_object(Bucket=BUCKET, Key=key)
    assert stored["ContentType"] == "image/png"
    assert "immutable" in stored["CacheControl"]
    # Exactly as the app does it: base URL + the path from the API, with its token attached
    # (nginx must strip it: S3 would refuse a Bearer Authorization header).
    response = client.get(image_path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.content == stored["Body"].read()
    assert Image.open(io.BytesIO(response.content)).size == size
    assert "x-amz-request-id" not in response.headers
    assert not any(stack["media_root"].iterdir()), "an upload reached the local disk"


def assert_gone(stack, client, image_path: str) -> None:
    assert not in_bucket(stack["s3"], object_key(image_path)), f"{image_path} is still stored"
    response = client.get(image_path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_profile_image_round_trip(stack, client):
    account = signup(client, "", "s3profile")
    headers = bearer(account)
    updated = client.put(
        "/account/",
        data={"username": "s3 profile"},
        files={"image": ("me.png", png_bytes((40, 30), "navy"), "image/png")},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    first = updated.json()["image"]
    assert first.startswith("/media/") and "://" not in first
    assert_served_from_bucket(stack, client, first, headers, (40, 30))

    # A new image replaces the old one: the old object does not linger in the bucket.
    replaced = client.put(
        "/account/",
        files={"image": ("me2.png", png_bytes((20, 10), "teal"), "image/png")},
        headers=headers,
    )
    assert replaced.status_code == 200, replaced.text
    second = replaced.json()["image"]
    assert second != first
    assert_served_from_bucket(stack, client, second, headers, (20, 10))
    assert_gone(stack, client, first)

    removed = client.put("/account/", data={"image_delete": "delete"}, headers=headers)
    assert removed.status_code == 200, removed.text
    assert removed.json()["image"] is None
    assert_gone(stack, client, second)


def test_funding_image_round_trip(stack, client):
    account = signup(client, "", "s3funding")
    headers = bearer(account)
    created = client.post(
        "/funding/",
        data=funding_form("Stored in a bucket"),
        files={"image": ("gift.png", png_bytes((64, 48), "gold"), "image/png")},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    funding = created.json()
    assert_served_from_bucket(stack, client, funding["image"], headers, (64, 48))
    listed = client.get("/funding/public", headers=headers)
    assert funding["image"] in {item["image"] for item in listed.json()}

    deleted = client.request(
        "DELETE",
        "/funding/",
        content=f"id={funding['id']}",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert deleted.status_code == 200, deleted.text
    assert_gone(stack, client, funding["image"])


def test_the_bucket_is_never_listed_through_the_site(stack, client):
    assert client.get("/media/").status_code == 404
    assert client.get("/media/?list-type=2").status_code == 404
    # And the app server itself serves no /media/ in this mode.
    assert httpx.get(stack["app"].base_url + "/media/anything.png", timeout=10).status_code == 404


def test_nothing_is_left_in_the_bucket(stack, client):
    """Runs after the round trips: every object they stored was deleted with its owner."""
    listing = stack["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"{LOCATION}/")
    assert listing.get("KeyCount", 0) == 0, [o["Key"] for o in listing.get("Contents", [])]
