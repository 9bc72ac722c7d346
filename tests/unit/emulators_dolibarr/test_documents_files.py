"""Document storage: generated PDFs, overwrite rules and refused paths."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest

from dolisync.emulators.dolibarr import create_app
from dolisync.emulators.dolibarr.documents import minimal_pdf
from dolisync.emulators.dolibarr.replay_fixture import ADMIN_KEY, recorded_state

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    state = recorded_state()
    state.insert("invoices", {"ref": "FA2611-0007", "lines": [], "total_ttc": "12.00"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state, auth_failure_delay=0)),
                                 base_url="http://e/api/index.php", headers={"DOLAPIKEY": ADMIN_KEY}) as c:
        yield c


def test_minimal_pdf_is_well_formed() -> None:
    pdf = minimal_pdf(["Invoice (1)", "héllo"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[startxref:startxref + 4] == b"xref"


async def test_builddoc_then_list_and_download(client: httpx.AsyncClient) -> None:
    built = await client.put("/documents/builddoc", json={"modulepart": "invoice", "doctemplate": "sponge",
                                                          "original_file": "FA2611-0007/FA2611-0007.pdf"})
    assert built.status_code == 200 and built.json()["content-type"] == "application/pdf"
    listed = (await client.get("/documents", params={"modulepart": "invoice", "ref": "FA2611-0007"})).json()
    assert [(d["relativename"], d["gen_or_uploaded"]) for d in listed] == [("FA2611-0007.pdf", "generated")]
    downloaded = (await client.get("/documents/download", params={
        "modulepart": "invoice", "original_file": "FA2611-0007/FA2611-0007.pdf"})).json()
    assert base64.b64decode(downloaded["content"]).startswith(b"%PDF")


@pytest.mark.parametrize("filename", ["../x.png", "a/b.png", ".."])
async def test_path_tricks_are_refused(client: httpx.AsyncClient, filename: str) -> None:
    body = {"filename": filename, "modulepart": "invoice", "ref": "FA2611-0007", "filecontent": "eA==",
            "fileencoding": "base64"}
    assert (await client.post("/documents/upload", json=body)).status_code == 400
    escaped = await client.get("/documents/download", params={"modulepart": "invoice",
                                                              "original_file": "../../etc/passwd"})
    assert escaped.status_code == 400


async def test_overwrite_replaces_content(client: httpx.AsyncClient) -> None:
    body = {"filename": "a.txt", "modulepart": "invoice", "ref": "FA2611-0007", "filecontent": "one"}
    assert (await client.post("/documents/upload", json=body)).json() == "a.txt"
    again = await client.post("/documents/upload", json={**body, "filecontent": "two", "overwriteifexists": 1})
    assert again.status_code == 200
    downloaded = (await client.get("/documents/download", params={"modulepart": "invoice",
                                                                 "original_file": "FA2611-0007/a.txt"})).json()
    assert base64.b64decode(downloaded["content"]) == b"two"
