"""The hosted-API vendors' official SDKs pointed at a daemon, and their own signing code for raw requests.

Shared by the tests/test_compat_*.py modules, tests/test_compat_parity.py and tests/test_web_openapi.py:
only the endpoint changes from what a migrating client writes.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from typing import Any
from urllib.parse import urlparse

from aip.base import AipBase
from alibabacloud_ocr_api20210707.client import Client as AliyunClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_util import models as util_models
from darabonba.request import DaraRequest
from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ocr.v20181119.ocr_client import OcrClient

from tests.web_server import (
    ALIYUN_ACCESS_KEY_ID,
    ALIYUN_ACCESS_KEY_SECRET,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    WebDaemon,
)

# --- Tencent Cloud --------------------------------------------------------------------------------


def tencent_client(daemon: WebDaemon, secret_id: str = TENCENT_SECRET_ID, secret_key: str = TENCENT_SECRET_KEY):
    profile = HttpProfile(endpoint=urlparse(daemon.url).netloc, protocol="http", reqTimeout=300)
    return OcrClient(credential.Credential(secret_id, secret_key), "ap-guangzhou", ClientProfile(httpProfile=profile))


def tencent_signed(client: OcrClient, action: str, params: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body exactly as the SDK would send them (its own signing code)."""
    request = RequestInternal(client._get_endpoint(), "POST", "/", header={})
    client._build_req_inter(action, params, request)
    return dict(request.header), request.data.encode("utf-8")


# --- Aliyun ---------------------------------------------------------------------------------------

ALIYUN_VERSION = "2021-07-07"
# No retries, so every error is seen exactly once; OCR on busy shared cores may take a while.
ALIYUN_RUNTIME = util_models.RuntimeOptions(
    autoretry=False, max_attempts=0, read_timeout=300_000, connect_timeout=10_000
)


def aliyun_host(daemon: WebDaemon) -> str:
    return daemon.url.removeprefix("http://")


def aliyun_client(
    daemon: WebDaemon, key_id: str = ALIYUN_ACCESS_KEY_ID, secret: str = ALIYUN_ACCESS_KEY_SECRET
) -> AliyunClient:
    """The SDK as a migrating client configures it: only the endpoint and protocol change."""
    config = open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=aliyun_host(daemon),
        protocol="http",
        read_timeout=300_000,
        connect_timeout=10_000,
    )
    return AliyunClient(config)


def now_stamp(offset: float = 0.0) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def aliyun_signed(
    daemon: WebDaemon,
    action: str,
    body: bytes,
    *,
    query: dict[str, str] | None = None,
    date: str | None = None,
    nonce: str | None = None,
    secret: str = ALIYUN_ACCESS_KEY_SECRET,
    version: str = ALIYUN_VERSION,
) -> dict[str, str]:
    """Headers for a raw request, signed by the SDK's own signer (not ocrd's code)."""
    request = DaraRequest()
    request.method, request.pathname, request.query = "POST", "/", dict(query or {})
    payload = hashlib.sha256(body).hexdigest()
    request.headers = {
        "host": aliyun_host(daemon),
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date or now_stamp(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": payload,
        "content-type": "application/octet-stream",
    }
    request.headers["Authorization"] = Utils.get_authorization(
        request, "ACS3-HMAC-SHA256", payload, ALIYUN_ACCESS_KEY_ID, secret
    )
    return request.headers


# --- Baidu ----------------------------------------------------------------------------------------

BAIDU_APP_ID = "12345678"  # the SDK wants one; Baidu's token endpoint (and ocrd's) never sees it
BAIDU_HOST = "https://aip.baidubce.com"
BAIDU_SDK_TIMEOUT_MS = 300_000  # the shared machine is slow; the SDK's own default is 60 s


def point_at(client: AipBase, base_url: str) -> AipBase:
    """Every Baidu URL of ``client`` rewritten to ``base_url``: the name-mangled class attributes, set on the instance."""
    for cls in type(client).__mro__:
        for name, value in vars(cls).items():
            if isinstance(value, str) and value.startswith(BAIDU_HOST + "/"):
                setattr(client, name, base_url + value[len(BAIDU_HOST) :])
    client.setSocketTimeoutInMillis(BAIDU_SDK_TIMEOUT_MS)
    return client
