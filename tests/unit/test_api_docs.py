"""The API docs pages of both services work on a closed network: /docs and /redoc reference no outside host,
and every script, style and icon they load is served by the service itself."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.fuzz.support import build_ingest, build_publisher

#: src="…", href="…", url: '…', spec-url="…" in the pages
REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|\burl:\s*["']([^"']+)["']""")
OUTSIDE = re.compile(r"(?i)\b(?:https?:)?//[a-z0-9.-]+")


@pytest.fixture(params=["ingest", "publisher"])
async def client(request):
    app = (build_ingest if request.param == "ingest" else build_publisher)()[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as c:
        yield c


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_reference_no_outside_host_and_their_assets_are_served(client, page):
    response = await client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert not OUTSIDE.findall(response.text), OUTSIDE.findall(response.text)
    references = [a or b for a, b in REFERENCE.findall(response.text)]
    scripts = [r for r in references if r.endswith(".js")]
    assert scripts, "the page loads its script from the service"
    for reference in references:
        asset = await client.get(reference)
        assert asset.status_code == 200 and len(asset.content) > 0, reference


async def test_the_swagger_bundle_sends_the_document_nowhere(client):
    page = (await client.get("/docs")).text
    assert '"validatorUrl": null' in page  # Swagger UI's default posts the document to a public validator
