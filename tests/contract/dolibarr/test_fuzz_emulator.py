"""Random paths, query strings and bodies never produce a Python traceback, only Dolibarr-shaped answers."""

from __future__ import annotations

import json
from urllib.parse import quote

import anyio
import httpx2 as httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dolisync.emulators.dolibarr import create_app
from dolisync.emulators.dolibarr.replay_fixture import ADMIN_KEY, recorded_state

_STATE = recorded_state()
_APP = create_app(_STATE, auth_failure_delay=0)

_SEGMENTS = st.one_of(
    st.sampled_from(["products", "categories", "warehouses", "stockmovements", "documents", "setup", "status",
                     "multicurrencies", "attributes", "variants", "values", "ref", "ref_ext", "barcode", "objects",
                     "product", "dictionary", "vat", "countries", "extrafields", "stock", "1", "2", "0001", "abc",
                     "-1", "99999999999999999999", "download", "upload", "builddoc", "rates", "bycode", ""]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), max_size=8),
)
_QUERY_KEYS = st.sampled_from(["sqlfilters", "limit", "page", "sortfield", "sortorder", "properties", "ids_only",
                               "pagination_data", "includestockdata", "variant_filter", "mode", "category", "type",
                               "modulepart", "id", "ref", "original_file", "onlyids", "fk_country", "include_childs"])
_QUERY_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["(t.ref:=:'x')", "(t.ref:like:'%')", "((t.rowid:in:1,2)", "(t.rowid:>:0) or 1=1", "t.rowid",
                     "t.nope", "-1", "0", "1", "true", "(ef.ps_id:=:'1')", "(t.ref:in:'A,B')", "DESC", "product"]),
)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(
        st.sampled_from(["ref", "label", "price", "price_ttc", "price_base_type", "tva_tx", "type", "qty",
                         "product_id", "warehouse_id", "features", "filename", "modulepart", "filecontent",
                         "fileencoding", "fk_parent", "rate", "code", "array_options", "stock_reel", "barcode",
                         "original_file", "1"]), children, max_size=6)),
    max_leaves=12,
)


def _dolibarr_shaped(response: httpx.Response) -> bool:
    if "Traceback" in response.text or 'File "' in response.text:
        return False
    content_type = response.headers.get("content-type", "")
    if response.status_code == 304:
        return response.content == b""
    if response.status_code == 403 and content_type.startswith("text/html"):
        return response.text.startswith("Access refused")
    if response.status_code == 501:
        return response.text == "API not found (failed to include API file)"
    if not content_type.startswith("application/json"):
        return False
    body = response.json()
    if response.status_code >= 400:
        return isinstance(body, dict) and body.get("error", {}).get("code") == response.status_code
    return response.status_code == 200


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), segments=st.lists(_SEGMENTS, min_size=1, max_size=5),
       query=st.dictionaries(_QUERY_KEYS, _QUERY_VALUES, max_size=4),
       body=st.one_of(st.none(), _JSON, st.binary(max_size=30)))
def test_random_requests_get_dolibarr_shaped_answers(method: str, segments: list[str], query: dict[str, str],
                                                     body: object) -> None:
    path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    if isinstance(body, bytes):
        content = body
    elif body is None:
        content = None
    else:
        content = json.dumps(body).encode()

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_APP), base_url="http://emulator/api/index.php",
                                     headers={"DOLAPIKEY": ADMIN_KEY}, timeout=10.0) as client:
            return await client.request(method, "http://emulator/api/index.php" + path, params=query, content=content)

    response = anyio.run(call)
    assert response.status_code != 500 or "Emulator internal error" not in response.text, response.text
    assert _dolibarr_shaped(response), (response.status_code, response.headers.get("content-type"), response.text[:300])
