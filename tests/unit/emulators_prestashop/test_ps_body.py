"""The write-body parser refuses DOCTYPE/entities and reports malformed XML like 8.2.1."""

from __future__ import annotations

import pytest

from dolisync.emulators.prestashop.body import multilang_value, parse_body
from dolisync.emulators.prestashop.errors import WsError


def test_items_are_the_children_of_the_root() -> None:
    items = parse_body(b"xml=<prestashop><product><price>1</price></product><product/></prestashop>")
    assert [i.tag for i in items] == ["product", "product"]


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><prestashop><product><price>&x;</price></product></prestashop>',
        b'<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><prestashop>&b;</prestashop>',
        b"<!DOCTYPE prestashop><prestashop/>",
    ],
)
def test_doctype_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(WsError) as refused:
        parse_body(body)
    assert refused.value.status == 500 and refused.value.errors[-1][0] == 127
    assert "root:" not in str(refused.value.errors)


def test_malformed_and_empty_bodies() -> None:
    with pytest.raises(WsError) as malformed:
        parse_body(b"<product>")
    codes = [code for code, _ in malformed.value.errors]
    assert codes == [3, 3, 3, 127]
    assert malformed.value.errors[-1][1] == (
        "XML error : String could not be parsed as XML\nXML length : 9\nOriginal XML : <product>"
    )
    with pytest.raises(WsError) as empty:
        parse_body(b"")
    assert [code for code, _ in empty.value.errors] == [127]


def test_multilang_values_replace_every_language() -> None:
    (item,) = parse_body(
        b'<prestashop><p><name><language id="2">B</language></name><plain>T</plain></p></prestashop>'
    )
    assert multilang_value(item.find("name"), [1, 2]) == {1: "", 2: "B"}
    assert multilang_value(item.find("plain"), [1, 2]) == {1: "T", 2: "T"}
