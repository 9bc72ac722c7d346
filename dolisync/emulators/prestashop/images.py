"""``/api/images/...`` endpoints (product images: listing, binary, upload, replace, delete).

Contract (WEBSERVICE.md section 12, REAL corrections): XML only (JSON answers 500 like 8.2.1);
errors 57/58 carry ``Content-Sha1`` of the empty string; upload answers 200 with the ``<image>``
entity then ``<content encode="base64">``; the first image of a product becomes its cover.
Resized variants return the original bytes (no image library is used).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from dolisync.emulators.dataset import ImageBlob
from dolisync.emulators.prestashop.errors import PHP_ROOT, WsError, did_you_mean
from dolisync.emulators.prestashop.protocol import JSON_TYPE, XML_TYPE, make_response
from dolisync.emulators.prestashop.render import json_dumps, xml_document

if TYPE_CHECKING:
    from dolisync.emulators.prestashop.app import Call, _Emulator

__all__ = ["handle", "IMAGE_TYPES", "ACCEPTED_MIME"]

IMAGE_TYPES: tuple[tuple[int, str], ...] = (
    (1, "cart_default"),
    (4, "home_default"),
    (5, "large_default"),
    (3, "medium_default"),
    (2, "small_default"),
)
ACCEPTED_MIME = (
    "image/gif",
    "image/jpg",
    "image/jpeg",
    "image/pjpeg",
    "image/png",
    "image/webp",
    "image/x-png",
)
_KINDS = ("general", "products", "categories", "manufacturers", "suppliers", "stores", "customizations")


def _error(status: int, code: int, message: str) -> WsError:
    return WsError(status, [(code, message)], sha1=True)


def _product_images(emulator: _Emulator, id_product: int) -> list[str]:
    product = emulator.store.get("products", id_product)
    if product is None:
        return []
    return [str(i.get("id")) for i in (product.get("associations") or {}).get("images") or []]


async def handle(emulator: _Emulator, call: Call, request: Request, id_shop: int | None) -> Response:
    """Dispatch an images request."""
    parts = call.parts
    if call.json_output and call.method in ("GET", "HEAD") and len(parts) == 2 and parts[0] == "products":
        return _broken_json(emulator, call, parts)
    if not parts:
        return _root(emulator, call)
    if parts[0] != "products":
        raise _error(400, 56, f'Image type "{parts[0]}" does not exist' if parts[0] not in _KINDS else "This image type is not handled by this emulator")
    if len(parts) == 1:
        return _products_listing(emulator, call)
    if not parts[1].isdigit():
        raise _error(400, 57, "This image id does not exist")
    id_product = int(parts[1])
    if call.method == "POST" and len(parts) == 2:
        return await _upload(emulator, call, request, id_product)
    if len(parts) == 2:
        return _product_listing(emulator, call, id_product)
    id_image_text = parts[2]
    images = _product_images(emulator, id_product)
    if id_image_text == "bin":
        product = emulator.store.get("products", id_product) or {}
        cover = str(product.get("id_default_image") or (images[0] if images else ""))
        if not cover:
            raise _error(400, 57, "This image id does not exist")
        id_image_text = cover
    if not id_image_text.isdigit() or id_image_text not in images or int(id_image_text) not in emulator.store.images:
        raise _error(400, 57, "This image id does not exist")
    id_image = int(id_image_text)
    if call.method == "DELETE":
        _delete(emulator, id_product, id_image)
        return make_response(200, b"", None, call.started)
    if call.method in ("PUT", "POST"):
        return await _replace(emulator, call, request, id_product, id_image)
    blob = emulator.store.images[id_image]
    if len(parts) >= 4:
        names = [name for _, name in IMAGE_TYPES]
        if parts[3] not in names:
            raise _error(
                400, 58, did_you_mean("This image size does not exist.", parts[3], sorted(names))
            )
    return make_response(200, blob.content, blob.mime, call.started, head=call.head, local_sha1=call.local_sha1)


def _root(emulator: _Emulator, call: Call) -> Response:
    mimes = ", ".join(ACCEPTED_MIME)
    lines = [
        f'<{kind} xlink:href="{emulator.ws_url}images/{kind}" get="true" put="false" post="false" '
        f'patch="false" delete="false" head="true" upload_allowed_mimetypes="{mimes}"/>\n'
        for kind in _KINDS
    ]
    return emulator.respond(call, 200, xml_document("<image_types>\n" + "".join(lines) + "</image_types>\n"), XML_TYPE)


def _products_listing(emulator: _Emulator, call: Call) -> Response:
    types = "".join(
        f'<image_type id="{i}" name="{n}" xlink:href="{emulator.ws_url}image_types/{i}"/>\n' for i, n in IMAGE_TYPES
    )
    products = [
        p for p in emulator.store.rows("products") if (p.get("associations") or {}).get("images")
    ]
    items = "".join(
        f'<image id="{p["id"]}" xlink:href="{emulator.ws_url}images/products/{p["id"]}"/>\n' for p in products
    )
    body = f"<image_types>\n{types}</image_types>\n<images>\n{items}</images>\n"
    return emulator.respond(call, 200, xml_document(body), XML_TYPE)


def _product_listing(emulator: _Emulator, call: Call, id_product: int) -> Response:
    images = _product_images(emulator, id_product)
    if not images:
        return make_response(404, b"", None, call.started, head=call.head)
    lines = "".join(
        f'<declination id="{i}" xlink:href="{emulator.ws_url}images/products/{id_product}/{i}"/>\n' for i in images
    )
    return emulator.respond(call, 200, xml_document(f'<image id="{id_product}">\n{lines}</image>\n'), XML_TYPE)


def _broken_json(emulator: _Emulator, call: Call, parts: list[str]) -> Response:
    """8.2.1's JSON renderer fails on image listings: 500 with PHP warnings and code 61."""
    id_product = int(parts[1]) if parts[1].isdigit() else 0
    images = _product_images(emulator, id_product)
    warning = (
        '[PHP Warning #2] Undefined array key "objectsNodeName" '
        f"({PHP_ROOT}/classes/webservice/WebserviceOutputJSON.php, line 127)"
    )
    listing = [{"id": str(id_product)}] + [{"id": i} for i in images]
    errors = [{"code": 3, "message": warning} for _ in listing] + [
        {"code": 61, "message": "This image does not exist on disk"}
    ]
    body = json_dumps({"": listing, "errors": errors})
    return make_response(500, body, JSON_TYPE, call.started)


async def _read_upload(request: Request) -> tuple[bytes, str]:
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a malformed multipart body is "no file"
        raise _error(400, 76, "Please set an \"image\" parameter with image data for value") from None
    upload: Any = form.get("image")
    if upload is None or isinstance(upload, str):
        raise _error(400, 76, "Please set an \"image\" parameter with image data for value")
    content = await upload.read()
    mime = (upload.content_type or "").split(";")[0].strip().lower()
    if mime not in ACCEPTED_MIME or not content:
        raise _error(400, 73, "This type of image format is not recognized, allowed formats are: " + ", ".join(ACCEPTED_MIME))
    if mime in ("image/jpg", "image/pjpeg"):
        mime = "image/jpeg"
    if mime == "image/x-png":
        mime = "image/png"
    return content, mime


async def _upload(emulator: _Emulator, call: Call, request: Request, id_product: int) -> Response:
    store = emulator.store
    product = store.get("products", id_product)
    if product is None:
        raise _error(400, 76, f"Product #{id_product} does not exist")
    content, mime = await _read_upload(request)
    id_image = store.allocate_id("images")
    store.images[id_image] = ImageBlob(id_image=id_image, id_product=id_product, content=content, mime=mime)
    associations = product.setdefault("associations", {})
    images = associations.setdefault("images", [])
    cover = not images
    images.append({"id": str(id_image)})
    if cover:
        product["id_default_image"] = str(id_image)
    store.update("products", id_product, {})
    langs = "".join(
        f'<language id="{lang}" xlink:href="{emulator.ws_url}languages/{lang}"><![CDATA[]]></language>'
        for lang in store.active_language_ids()
    )
    body = (
        f"<image>\n<id><![CDATA[{id_image}]]></id>\n<id_product><![CDATA[{id_product}]]></id_product>\n"
        f"<position><![CDATA[{len(images)}]]></position>\n<cover><![CDATA[{1 if cover else ''}]]></cover>\n"
        f"<legend>{langs}</legend>\n</image>\n"
        f'<content encode="base64"><![CDATA[{base64.b64encode(content).decode("ascii")}]]></content>\n'
    )
    return emulator.respond(call, 200, xml_document(body), XML_TYPE)


async def _replace(emulator: _Emulator, call: Call, request: Request, id_product: int, id_image: int) -> Response:
    content, mime = await _read_upload(request)
    emulator.store.images[id_image] = ImageBlob(id_image=id_image, id_product=id_product, content=content, mime=mime)
    emulator.store.update("products", id_product, {})
    return make_response(200, content, mime, call.started)


def _delete(emulator: _Emulator, id_product: int, id_image: int) -> None:
    store = emulator.store
    store.images.pop(id_image, None)
    product = store.get("products", id_product)
    if product is None:
        return
    images = (product.get("associations") or {}).get("images") or []
    remaining = [i for i in images if str(i.get("id")) != str(id_image)]
    product.setdefault("associations", {})["images"] = remaining
    if str(product.get("id_default_image") or "") == str(id_image):
        product["id_default_image"] = str(remaining[0]["id"]) if remaining else ""
    store.update("products", id_product, {})
