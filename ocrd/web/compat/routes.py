"""Hosted-OCR APIs answered by ocrd, so a client leaves the cloud by changing one endpoint.

One module per vendor (``tencent``, ``aliyun``, ``baidu``, ``umi``) parses its requests, checks
its own credentials and words its answers; all of them read documents through
``ocrd.web.compat.recognise``, the same job queue as ``POST /ocr``. Tencent and Aliyun both
send ``POST /`` and name the action in a header, so ``POST /`` is dispatched here by header.

A vendor is answered only when its section of the configuration is complete
(``config.compat.served()``); the check is made per request, so a reload takes effect at once.
"""

from __future__ import annotations

from aiohttp import web

from ocrd.web.compat import aliyun, baidu, tencent, umi  # submodules: this module is not the package

TENCENT_ACTION = "X-TC-Action"
ALIYUN_ACTION = "x-acs-action"


def signs_itself(request: web.Request) -> bool:
    """Requests that carry their vendor's own credentials, checked by the vendor module, not by [web] token.

    Umi-OCR's API has no credentials, so its requests are not among them: the web token applies.
    """
    if request.method == "POST" and request.path == "/":
        return TENCENT_ACTION in request.headers or ALIYUN_ACTION in request.headers
    return request.path.startswith(baidu.OWN_AUTH_PREFIXES)


async def dispatch_root(request: web.Request) -> web.StreamResponse:
    """POST /: a Tencent Cloud or an Aliyun request, told apart by the header naming the action."""
    if TENCENT_ACTION in request.headers:
        return await tencent.handle(request)
    if ALIYUN_ACTION in request.headers:
        return await aliyun.handle(request)
    raise web.HTTPNotFound(
        text="POST / answers Tencent Cloud (X-TC-Action) and Aliyun (x-acs-action) OCR requests; "
        "for ocrd's own API use POST /ocr\n"
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/", dispatch_root)
    baidu.add_routes(app)
    umi.add_routes(app)
