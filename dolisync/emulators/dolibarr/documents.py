"""``/documents``: upload, list, download, delete, builddoc, with bytes kept in ``state.files``.

Files are stored under ``"<dir>/<ref>/<filename>"`` where ``<dir>`` is Dolibarr's directory of
the module part (``produit``, ``facture``, ``commande``, ``societe``, ``expedition``). Objects
are looked up by ``ref`` in the area's table (``products``, ``invoices``, ``orders``,
``shipments``; thirdparties by id). Public helpers: :func:`store_file` (e.g. invoice
validation writing its PDF) and :func:`minimal_pdf`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
from typing import Any

from dolisync.emulators.dolibarr.cat_templates import template
from dolisync.emulators.dolibarr.core import ApiError, Call, DolibarrRouter, as_bool, as_str, success
from dolisync.emulators.dolibarr.state import DolibarrState, Row, StoredFile

__all__ = ["register", "store_file", "minimal_pdf", "MODULE_PARTS", "DOCUMENTS_ROOT"]

DOCUMENTS_ROOT = "/var/lib/dolibarr/documents"

#: directory -> element name printed as ``src_object_type``
_ELEMENTS = {"produit": "product", "facture": "facture", "commande": "commande", "expedition": "shipping",
             "societe": "societe"}

#: modulepart -> (directory, table, key used as the directory name: "ref" or "id")
MODULE_PARTS: dict[str, tuple[str, str, str]] = {
    "product": ("produit", "products", "ref"), "produit": ("produit", "products", "ref"),
    "service": ("produit", "products", "ref"),
    "invoice": ("facture", "invoices", "ref"), "facture": ("facture", "invoices", "ref"),
    "order": ("commande", "orders", "ref"), "commande": ("commande", "orders", "ref"),
    "shipment": ("expedition", "shipments", "ref"), "expedition": ("expedition", "shipments", "ref"),
    "thirdparty": ("societe", "thirdparties", "id"), "societe": ("societe", "thirdparties", "id"),
}
_STAGES_VALIDATE = {"success": ["get", "route", "negotiate", "authenticate"], "failure": ["validate", "message"]}


def _part(modulepart: str | None) -> tuple[str, str, str]:
    if not modulepart:
        raise ApiError(400, "`modulepart` is required.", stages=_STAGES_VALIDATE, source="Validator.php:436")
    part = MODULE_PARTS.get(modulepart.lower())
    if part is None:
        raise ApiError(400, f"Modulepart {modulepart} not implemented yet.")
    return part


def _safe_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise ApiError(400, "Bad value for filename")
    return name


def store_file(state: DolibarrState, directory: str, key: str, filename: str, content: bytes,
               mime: str | None = None, *, generated: bool = False) -> StoredFile:
    """Store (or overwrite) ``<directory>/<key>/<filename>`` and return the entry."""
    path = f"{directory}/{key}/{_safe_name(filename)}"
    previous = state.files.get(path)
    siblings = state.files_in(f"{directory}/{key}")
    entry = StoredFile(content=content, date=state.now(),
                       mime=mime or mimetypes.guess_type(filename)[0] or "application/octet-stream",
                       position=previous.position if previous else len(siblings) + 1,
                       ecm_id=previous.ecm_id if previous else state.next_id("ecm_files"), generated=generated)
    state.files[path] = entry
    return entry


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF showing ``lines`` (ASCII; other characters become ``?``)."""
    def esc(text: str) -> str:
        return text.encode("ascii", "replace").decode("ascii").replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = "BT /F1 12 Tf 50 800 Td 14 TL " + " ".join(f"({esc(line)}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    return bytes(out)


def _find_object(state: DolibarrState, table: str, key: str, *, object_id: int | None = None,
                 ref: str | None = None) -> Row | None:
    if object_id is not None:
        return state.get(table, object_id)
    if ref is None:
        return None
    if table == "products" and key == "ref":  # indexed by case-folded ref: same first row, no scan
        candidates = state.lookup("products", "ref", ref.casefold())
    else:
        candidates = list(state.table(table).values())
    for row in candidates:
        if str(row.get("ref")) == ref or (key == "id" and str(row["id"]) == ref):
            return row
    return None


def _entry(directory: str, key: str, filename: str, stored: StoredFile, modulepart: str, object_id: int) -> dict[str, Any]:
    out = template("document_entry")
    folder = f"{DOCUMENTS_ROOT}/{directory}/{key}"
    out.update({
        "path": folder, "level1name": key, "relativename": filename, "fullname": f"{folder}/{filename}",
        "date": stored.date, "size": len(stored.content), "id": str(stored.ecm_id), "ref": str(stored.ecm_id),
        "label": hashlib.md5(stored.content, usedforsecurity=False).hexdigest(), "filename": filename,
        "filepath": f"{directory}/{key}", "fullpath_orig": "" if stored.generated else filename,
        "position": str(stored.position), "gen_or_uploaded": "generated" if stored.generated else "api",
        "fk_user_m": "1" if stored.generated else None,
        "date_c": stored.date, "date_m": stored.date, "src_object_type": _ELEMENTS.get(directory, modulepart),
        "src_object_id": str(object_id), "content-type": stored.mime,
    })
    return out


def list_documents(call: Call) -> Any:
    modulepart = call.query.get("modulepart")
    directory, table, key_kind = _part(modulepart)
    object_id = call.qint("id")
    ref = call.query.get("ref")
    row = _find_object(call.state, table, key_kind, object_id=object_id, ref=ref)
    if row is None:
        raise ApiError(404, f"Search for modulepart {modulepart} with Id {object_id or ''} or Ref {ref or ''} "
                            "does not return any document.")
    key = str(row[key_kind])
    prefix = f"{directory}/{key}/"
    files = sorted(((p[len(prefix):], call.state.files[p]) for p in call.state.files_in(f"{directory}/{key}")),
                   key=lambda item: (item[1].position, item[0]))
    if not files:
        raise ApiError(404, f"Search for modulepart {modulepart} with Id {row['id']} or Ref {row.get('ref') or key} "
                            "does not return any document.")
    return [_entry(directory, key, name, stored, str(modulepart), row["id"]) for name, stored in files]


def _resolve_original(call: Call, original: str | None) -> tuple[str, str, str]:
    directory, _table, _kind = _part(call.query.get("modulepart"))
    if not original or ".." in original.split("/"):
        raise ApiError(400, "bad value for parameter original_file")
    return directory, f"{directory}/{original.strip('/')}", original.strip("/").split("/")[-1]


def download(call: Call) -> Any:
    _directory, path, filename = _resolve_original(call, call.query.get("original_file"))
    stored = call.state.files.get(path)
    if stored is None:
        raise ApiError(404, "File not found")
    return {"filename": filename, "content-type": stored.mime, "filesize": len(stored.content),
            "content": base64.b64encode(stored.content).decode("ascii"), "encoding": "base64"}


def delete_document(call: Call) -> Any:
    _directory, path, _filename = _resolve_original(call, call.query.get("original_file"))
    if call.state.files.pop(path, None) is None:
        raise ApiError(404, "File not found")
    return success("Document deleted")


def upload(call: Call) -> Any:
    body = call.body_dict()
    filename = as_str(body.get("filename"))
    if not filename:
        raise ApiError(400, "`filename` is required.", stages=_STAGES_VALIDATE, source="Validator.php:436")
    modulepart = as_str(body.get("modulepart"))
    directory, table, key_kind = _part(modulepart)
    ref = as_str(body.get("ref"), "") or ""
    row = _find_object(call.state, table, key_kind, ref=ref)
    if row is None:
        raise ApiError(404, f"Object with ref '{ref}' was not found.")
    content_text = as_str(body.get("filecontent"), "") or ""
    if (as_str(body.get("fileencoding"), "") or "").lower() == "base64":
        try:
            content = base64.b64decode(content_text, validate=False)
        except (binascii.Error, ValueError):
            raise ApiError(400, "Bad value for filecontent (not base64)") from None
    else:
        content = content_text.encode("utf-8")
    key = str(row[key_kind])
    path = f"{directory}/{key}/{_safe_name(filename)}"
    if path in call.state.files and not as_bool(body.get("overwriteifexists", 0)):
        raise ApiError(400, f"File with name '{filename}' already exists.")
    store_file(call.state, directory, key, filename, content)
    return filename


def builddoc(call: Call) -> Any:
    body = call.body_dict()
    modulepart = as_str(body.get("modulepart"))
    directory, table, key_kind = _part(modulepart)
    original = (as_str(body.get("original_file"), "") or "").strip("/")
    if not original or ".." in original.split("/"):
        raise ApiError(400, "bad value for parameter original_file")
    key, _, filename = original.rpartition("/")
    filename = filename or f"{key}.pdf"
    row = _find_object(call.state, table, key_kind, ref=key or original)
    if row is None:
        raise ApiError(404, f"Object with ref '{key or original}' was not found.")
    template_name = as_str(body.get("doctemplate"), "") or "sponge"
    lines = [f"{call.state.setup.company_name}", f"{modulepart} {row.get('ref', row['id'])}"]
    for label in ("total_ht", "total_tva", "total_ttc"):
        if row.get(label) is not None:
            lines.append(f"{label}: {row[label]}")
    stored = store_file(call.state, directory, str(row[key_kind]), filename, minimal_pdf(lines), "application/pdf",
                        generated=True)
    if "last_main_doc" in row or table in {"invoices", "orders"}:
        row["last_main_doc"] = f"{directory}/{row[key_kind]}/{filename}"
    return {"filename": filename, "content-type": "application/pdf", "filesize": len(stored.content),
            "content": base64.b64encode(stored.content).decode("ascii"),
            "langcode": as_str(body.get("langcode"), "") or "", "template": template_name, "encoding": "base64"}


def register(router: DolibarrRouter) -> None:
    """Routes of ``/documents``."""
    router.add("GET", "/documents", list_documents, perm="ecm.read")
    router.add("DELETE", "/documents", delete_document, perm="ecm.write")
    router.add("GET", "/documents/download", download, perm="ecm.read")
    router.add("POST", "/documents/upload", upload, perm="ecm.write")
    router.add("PUT", "/documents/builddoc", builddoc, perm="ecm.write")
