"""Importing the city's zones (administrators): upload a GeoJSON file → preview what changes → confirm.

The uploaded file waits in the data directory under its sha256 between the preview and the
confirmation (the confirmation re-reads and re-checks it), and is removed once imported.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse

from .. import vocab
from ..i18n import gettext as _
from ..web import current_user, read_form, read_upload, render, run_db, write_db

# ..zones.geojson and ..zones.importer are imported where used: they load shapely (some 25 MB),
# which a server that never imports zones does without.

PENDING_HOURS = 24
SHA_RE = re.compile(r"^[0-9a-f]{64}\Z")
PROP_RE = re.compile(r"^[^\x00-\x1f]{1,80}\Z")


def _pending_dir(request: Request) -> Path:
    d = request.app.state.settings.data_dir / "zone-imports"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _mapping(form) -> tuple[geojson.Mapping | None, dict, dict]:
    """The property names chosen in the form; errors name each field."""
    from ..zones import geojson

    values = {k: str(form.get(k, "")).strip()[:80] for k in ("code", "name", "population")}
    errors = {}
    for k, v in values.items():
        if not PROP_RE.match(v):
            errors[k] = _("Enter the name of a property of the features.")
    bands = {}
    for band in vocab.AGE_BANDS:
        v = str(form.get("age_" + band, "")).strip()[:80]
        values["age_" + band] = v
        if v and PROP_RE.match(v):
            bands[band] = v
    values["repair"] = "1" if form.get("repair") else ""
    values["deactivate_missing"] = "1" if form.get("deactivate_missing") else ""
    if errors:
        return None, values, errors
    return geojson.Mapping(values["code"], values["name"], values["population"], bands), values, {}


def _page(request: Request, status: int = 200, **ctx):
    from ..zones import geojson

    ctx.setdefault("values", {"code": "code", "name": "nom", "population": "population"})
    ctx.setdefault("errors", {})
    q = request.query_params
    done = {k: int(q[k]) for k in ("new", "changed", "assigned") if q.get(k, "").isdigit() and len(q[k]) < 9}
    return render(request, "admin/zones_import.html",
                  dict(ctx, age_bands=vocab.AGE_BANDS.plain(), max_mb=geojson.MAX_FILE_BYTES // 1_048_576,
                       done=done if q.get("done") == "1" and len(done) == 3 else None),
                  status_code=status)


async def import_page(request: Request):
    return _page(request)


async def import_preview(request: Request):
    from ..zones import geojson, importer

    form, raw = await read_upload(request, geojson.MAX_FILE_BYTES)
    mapping, values, errors = _mapping(form)
    if not raw:
        errors["file"] = _("Choose a GeoJSON file.")
    if errors:
        return _page(request, 400, values=values, errors=errors)
    try:
        features = geojson.read(raw, mapping, repair=bool(values["repair"]))
    except geojson.ZoneFileError as e:
        return _page(request, 400, values=values, problems=e.problems)
    plan = await run_db(request, importer.preview, features)
    digest = hashlib.sha256(raw).hexdigest()
    folder = _pending_dir(request)
    for old in folder.glob("*.geojson"):  # previews never confirmed
        if time.time() - old.stat().st_mtime > PENDING_HOURS * 3600:
            old.unlink(missing_ok=True)
    (folder / f"{digest}.geojson").write_bytes(raw)
    return _page(request, values=values, plan=plan, digest=digest)


async def import_confirm(request: Request):
    from ..zones import geojson, importer

    form = await read_form(request)
    digest = str(form.get("digest", ""))
    mapping, values, errors = _mapping(form)
    path = _pending_dir(request) / f"{digest}.geojson"
    if not SHA_RE.match(digest) or not path.exists():
        return _page(request, 400, values=values, problems=[_("This preview has expired: upload the file again.")])
    if errors:
        return _page(request, 400, values=values, errors=errors)
    try:
        features = geojson.read(path.read_bytes(), mapping, repair=bool(values["repair"]))
    except geojson.ZoneFileError as e:
        return _page(request, 400, values=values, problems=e.problems)
    me = current_user(request)

    def apply(db):
        plan = importer.preview(db, features)
        return importer.apply(db, plan, me["id"], deactivate_missing=bool(values["deactivate_missing"]))

    summary = await write_db(request, apply)
    path.unlink(missing_ok=True)
    query = f"?done=1&new={summary['new']}&changed={summary['changed']}&assigned={summary['assigned']['encounters']}"
    return RedirectResponse(request.url_for("admin_zones_import").path + query, status_code=303)
