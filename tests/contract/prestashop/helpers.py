"""Small helpers of the contract suite (raw Webservice calls, XML parsing)."""

from __future__ import annotations

from typing import Any

import httpx2
from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def xml(response: httpx2.Response) -> etree._Element:
    """Parse an XML answer (entities refused)."""
    return etree.fromstring(response.content, _PARSER)


def text(root: etree._Element, path: str) -> str:
    """Text of the first element at ``path`` ('' when absent)."""
    node = root.find(path)
    return "" if node is None or node.text is None else node.text


def language(root: etree._Element, path: str, id_lang: int) -> str:
    """Text of ``<language id=...>`` under ``path``."""
    node = root.find(f"{path}/language[@id='{id_lang}']")
    return "" if node is None or node.text is None else node.text


def product_body(prefix: str, price: str, name_en: str, name_fr: str, extra: str = "") -> bytes:
    """A product creation body (state=1, both languages)."""
    return (
        "<prestashop><product>"
        f"<price>{price}</price><state>1</state><active>1</active><reference>{prefix}</reference>"
        f'<name><language id="1">{name_en}</language><language id="2">{name_fr}</language></name>'
        f"{extra}</product></prestashop>"
    ).encode()


async def create(client: httpx2.AsyncClient, resource: str, body: bytes) -> etree._Element:
    """POST ``body``; asserts 201 and returns the echoed root."""
    response = await client.post(f"/api/{resource}", content=body)
    assert response.status_code == 201, response.text[:500]
    return xml(response)


async def delete(client: httpx2.AsyncClient, resource: str, ids: list[Any]) -> None:
    """Best-effort cleanup."""
    for id_ in ids:
        await client.delete(f"/api/{resource}/{id_}")
