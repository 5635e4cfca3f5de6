"""Twilio Voice: the hotline's menu as TwiML (CHANNELS.md §6–7).

A call starts with a signed form POST to `/channels/voice/twilio`; each `<Gather>` posts the
keys pressed to `/channels/voice/twilio/gather`, with where the call stands in its query:

    CallSid=CA…&AccountSid=AC…&From=+212600000001&To=+212800001122&CallStatus=in-progress
    &Direction=inbound&ApiVersion=2010-04-01&Digits=1

The answer is TwiML built with the SDK's `VoiceResponse` from the channel-neutral voice
menu (`menu.py`). The call's dialog session is the one every channel uses, keyed by the
`CallSid`; a caller ID proves nothing, so the profile says so and the dialogs ask for the
Massar code and birth date before any child's data. Status callbacks get an empty answer.
Docs: https://www.twilio.com/docs/voice/twiml/gather
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from twilio.twiml.voice_response import Gather as TwimlGather
from twilio.twiml.voice_response import VoiceResponse

from gateway.channels.common import ChannelError, PayloadError, fields, read_form, verify_twilio
from gateway.channels.voice import texts
from gateway.channels.voice.flow import (
    GATHER_ROUTE,
    MAX_MISSES,
    CallState,
    Voices,
    language_menu,
    read_press,
    screen,
    to_agent,
    translator_for,
)
from gateway.channels.voice.menu import Dial, Gather, Hangup, Redirect, Say, VoiceMenu
from gateway.channels.voice.prompts import DARIJA, PROMPTS_ROUTE, Recordings
from gateway.deps import runtime
from gateway.dialogs.conversation import Step
from gateway.dialogs.model import ChannelKind, ChannelProfile, Inbound, Lang, Screen, Session
from gateway.phones import to_e164
from gateway.settings import Settings
from gateway.state.store import SESSION_TTL_S

ROUTE = "/channels/voice/twilio"
STATUS_ROUTE = "/channels/voice/twilio/status"
# A piece of an answer is what one breath of the voice says; "1" reads the next piece.
VOICE_PROFILE = ChannelProfile(
    kind=ChannelKind.VOICE,
    max_chars_gsm7=480,
    max_chars_ucs2=480,
    numbered_options=False,
    spoken=True,
    gsm_letters=False,  # the voice reads "reçu", not "recu"
    caller_id_trusted=False,
    alerts_menu=True,
)
TWIML = "application/xml"
# A call that no longer needs a menu: a status callback posted to the call's URL.
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    call_sid: str
    phone: str  # E.164, or "" when the caller ID is withheld or not a phone number
    status: str
    digits: str


def parse_payload(data: Mapping[str, str]) -> Call:
    sid = data.get("CallSid", "")
    if not sid or len(sid) > 64:
        raise PayloadError("CallSid missing")
    return Call(
        call_sid=sid,
        phone=caller_phone(data.get("From", "")),
        status=data.get("CallStatus", "")[:32],
        digits=data.get("Digits", "")[:64],
    )


def caller_phone(caller: str) -> str:
    """The caller's E.164 number, or "" when withheld ("anonymous", "+266696687") or not a
    phone; over a SIP Domain `From` is a SIP URI, `sip:+212600000001@domain`."""
    if caller.startswith("sip:"):
        caller = caller[4:].split("@", 1)[0]
    return to_e164(caller[:32]) or ""


def dialog_lang(call_lang: str) -> Lang:
    """The dialogs' language of a call's: Darija calls run the Arabic dialogs."""
    return Lang.FR if call_lang == "fr" else Lang.AR


def voices(settings: Settings) -> Voices:
    return Voices(
        agents_number=settings.hotline_agents_number,
        timeout_s=settings.voice_gather_timeout_s,
        recordings=Recordings(settings.voice_prompts_dir, settings.public_url),
    )


# --- TwiML ------------------------------------------------------------------------------


def to_twiml(menu: VoiceMenu, settings: Settings) -> str:
    response = VoiceResponse()
    for verb in menu.verbs:
        _add(response, verb, settings)
    return str(response)


def _add(parent: VoiceResponse | TwimlGather, verb: object, settings: Settings) -> None:
    if isinstance(verb, Say):
        if verb.prompt is not None:
            parent.play(verb.prompt)
        elif verb.lang == "fr":
            parent.say(verb.text, voice=settings.voice_fr, language=settings.voice_language_fr)
        else:
            parent.say(verb.text, voice=settings.voice_ar, language=settings.voice_language_ar)
    elif isinstance(verb, Gather) and isinstance(parent, VoiceResponse):
        gather = parent.gather(
            input="dtmf",
            num_digits=verb.keys,
            action=verb.action,
            method="POST",
            timeout=verb.timeout_s,
            action_on_empty_result=True,
            # A menu takes `#` as a key (one nothing answers); a prompt ends with it.
            finish_on_key="" if verb.keys == 1 else "#",
        )
        for prompt in verb.prompts:
            _add(gather, prompt, settings)
    elif isinstance(verb, Dial) and isinstance(parent, VoiceResponse):
        parent.dial(verb.number)
    elif isinstance(verb, Redirect) and isinstance(parent, VoiceResponse):
        parent.redirect(verb.url, method="POST")
    elif isinstance(verb, Hangup) and isinstance(parent, VoiceResponse):
        parent.hangup()


def _twiml(menu: VoiceMenu, settings: Settings) -> Response:
    return Response(to_twiml(menu, settings), media_type=TWIML)


# --- routes -----------------------------------------------------------------------------

router = APIRouter(tags=["channels"])
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Malformed request"},
    403: {"description": "Bad signature"},
}


async def _verified_call(request: Request) -> Call | Response:
    """The call this signed request is about, or what to answer instead: the refusal of a
    bad request, or empty TwiML for a call that has ended (a status posted to a call URL)."""
    try:
        form = await read_form(request)
        verify_twilio(request, form, runtime(request).settings)
        call = parse_payload(fields(form))
    except ChannelError as exc:
        return PlainTextResponse(exc.reason, status_code=exc.status)
    if call.status in ENDED:
        return Response(str(VoiceResponse()), media_type=TWIML)
    return call


@router.post(
    ROUTE, summary="Twilio Voice: a call starts", response_class=Response, responses=ERRORS
)
async def voice_twilio(request: Request) -> Response:
    settings: Settings = runtime(request).settings
    call = await _verified_call(request)
    if isinstance(call, Response):
        return call
    # The same for every call and every retry: the language first.
    return _twiml(language_menu(CallState(), voices(settings)), settings)


@router.post(
    GATHER_ROUTE, summary="Twilio Voice: keys pressed", response_class=Response, responses=ERRORS
)
async def voice_twilio_gather(request: Request) -> Response:
    settings: Settings = runtime(request).settings
    call = await _verified_call(request)
    if isinstance(call, Response):
        return call
    state = CallState.parse(request.query_params)
    config = voices(settings)
    press = read_press(call.digits, state, darija=config.recordings.has_darija())
    if press.kind == "agent":
        return _twiml(to_agent(state.lang, config), settings)
    if press.kind == "miss" and state.misses + 1 >= MAX_MISSES:
        return _twiml(to_agent(state.lang, config), settings)
    if state.mode == "lang" and press.kind != "lang":
        missed = press.kind == "miss"
        again = CallState(turn=state.turn, misses=state.misses + missed, lang=state.lang)
        return _twiml(language_menu(again, config, note=missed), settings)
    body = await _dialog_turn(request, call, state, press.kind, press.value, press.silent)
    return Response(body, media_type=TWIML)


async def _dialog_turn(
    request: Request, call: Call, state: CallState, kind: str, value: str, silent: bool
) -> str:
    """One step of the dialogs for this key press, rendered as the next voice menu."""
    settings: Settings = runtime(request).settings
    config = voices(settings)
    misses = state.misses + 1 if kind == "miss" else 0
    notes: list[str] = []
    if kind == "miss":
        notes.append(texts.NO_KEY if silent else texts.WRONG_KEY)
    now = datetime.now(UTC)

    def prepare(stored: Session | None) -> tuple[Inbound, Session | None]:
        session = stored
        if kind == "lang":  # the call's conversation starts in the language chosen
            session = Session(lang=dialog_lang(value), lang_chosen=True)
        elif stored is None:  # a call we never saw, or expired: the menu, in its language
            session = Session(lang=dialog_lang(state.lang), lang_chosen=True)
            if not notes:
                notes.append(texts.SESSION_ENDED)
        inbound = Inbound(
            channel=ChannelKind.VOICE,
            sender=call.phone,
            # A menu key as the screen's own key ("9" more, "0" menu), as USSD would send it,
            # so an answer that follows by SMS is the same step again.
            text=value if kind in ("input", "option") else "",
            option_id=None if kind in ("input", "option") else "repeat",
            message_id=f"{call.call_sid}:{state.turn}",
            session_id=call.call_sid,  # failed checks lock the call, not the caller ID's phone
            received_at=now,
        )
        return inbound, session

    def spoken_in(session_lang: Lang | None) -> str:
        lang = value if kind == "lang" else state.lang
        # The dialogs may have switched between Arabic and French; Darija stays Darija.
        return lang if lang == DARIJA else (session_lang or lang)

    def shown(step: Step) -> Screen:
        """The step's screen with this press's notes said first (a repeat hears them too)."""
        said = step.screen()
        if said.end or not notes:
            return said
        t = translator_for(spoken_in(said.lang))
        return replace(said, text="\n".join([*(t.gettext(n) for n in notes), said.text]))

    said: Screen = await runtime(request).turns.run(
        prepare,
        profile=VOICE_PROFILE,
        user=call.call_sid,
        budget_s=settings.voice_budget_s,
        message_id=f"{call.call_sid}:{state.turn}",
        remember_s=SESSION_TTL_S[ChannelKind.VOICE],
        shown=shown,
    )
    lang = spoken_in(said.lang)
    following = CallState(turn=state.turn, misses=misses, lang=lang)
    return to_twiml(screen(said, lang, following, config), settings)


@router.post(STATUS_ROUTE, summary="Twilio Voice call status", status_code=204, responses=ERRORS)
async def voice_twilio_status(request: Request) -> Response:
    """Call progress: nothing to do (a call's session expires on its own), whatever order
    the callbacks come in; signed like the rest."""
    call = await _verified_call(request)
    if isinstance(call, Response) and call.status_code != 200:
        return call
    return Response(status_code=204)


@router.get(
    PROMPTS_ROUTE + "/{lang}/{name}",
    summary="A recorded voice prompt",
    response_class=FileResponse,
    responses={404: {"description": "No such recording"}},
)
async def voice_prompt(lang: str, name: str, request: Request) -> Response:
    settings: Settings = runtime(request).settings
    path = voices(settings).recordings.file(lang, name)
    if path is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(path, media_type="audio/mpeg")
