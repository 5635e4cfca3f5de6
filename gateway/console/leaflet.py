"""`/console/leaflet.pdf?lang=ar|fr&school=…`: one A5 page a school prints for parents — the
USSD code, the SMS keywords, the WhatsApp and Telegram handles, the hotline and how to link a
child — from the catalogs and the GATEWAY_LEAFLET_* settings. WeasyPrint lays it out through
Pango and HarfBuzz, which shape Arabic and set its direction."""

from __future__ import annotations

from functools import partial

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.console.web import _env
from gateway.deps import runtime
from gateway.i18n import LANGS, translator
from gateway.settings import Settings

__all__ = ["render_leaflet", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_SCHOOL_CHARS = 80


def leaflet_html(settings: Settings, lang: str, school: str) -> str:
    t = translator(lang)
    return _env.get_template("leaflet.html").render(
        _=t.gettext,
        lang=lang,
        dir="rtl" if lang == "ar" else "ltr",
        school=school,
        s=settings,
    )


def render_leaflet(settings: Settings, lang: str, school: str) -> bytes:
    """The PDF (WeasyPrint is imported here: it loads Pango, which the gateway rarely needs)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=leaflet_html(settings, lang, school)).write_pdf()
    return pdf


@router.get("/leaflet.pdf")
async def leaflet(request: Request) -> Response:
    lang = request.query_params.get("lang", "ar")
    if lang not in LANGS:
        lang = "ar"
    school = " ".join(request.query_params.get("school", "").split())[:MAX_SCHOOL_CHARS]
    pdf = await anyio.to_thread.run_sync(
        partial(render_leaflet, runtime(request).settings, lang, school)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="massar-leaflet-{lang}.pdf"'},
    )
