"""The console in a real browser: Debian's chromium driven by Selenium, against a gateway
served by uvicorn on a free loopback port (the sandbox backend behind it, in-process).

Skipped, saying why, where chromium or chromedriver is missing (`make test` installs both
with apt when it runs as root). Nothing here downloads a browser: Selenium is given Debian's
binaries. Screenshots go to var/test-artifacts/console/.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.support.ui import WebDriverWait

from gateway.app import create_app
from gateway.state.console.operators import OperatorStore
from tests.conftest import REAL_REDIS, REDIS_URL
from tests.databases import migrated
from tests.gateway.conftest import TWILIO_TOKEN, gateway_settings, sign_twilio
from tests.gateway.console.conftest import PASSWORDS, ROLES, TOTP_SECRETS, said, totp_codes

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "console"
MISSING = next(
    (
        f"{name} is not installed (Debian's chromium and chromium-driver; `make test` installs "
        "them with apt when it runs as root)"
        for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER))
        if not Path(path).exists()
    ),
    None,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
]

LANGS = ["ar", "fr"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(seeded_sandbox_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway on http://127.0.0.1:<port>, with two operators and its own sender."""
    import uvicorn

    from sandbox.app import create_app as create_sandbox
    from sandbox.settings import SandboxSettings

    tmp = tmp_path_factory.mktemp("browser")
    shutil.copyfile(seeded_sandbox_file, tmp / "sandbox.db")
    sandbox = create_sandbox(
        SandboxSettings(database_url=f"sqlite:///{tmp}/sandbox.db", env="test")
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = migrated(
        gateway_settings(
            tmp,
            REDIS_URL if REAL_REDIS else None,
            env="development",
            public_url=url,
            embedded_sender=True,
        )
    )
    app = create_app(settings, backend_transport=httpx.ASGITransport(app=sandbox))
    from gateway.state.connections import open_database

    engine = open_database(settings.database_url)
    store = OperatorStore(engine, key_secret=settings.identity_key.get_secret_value().encode())
    for name, role in ROLES.items():
        store.add(name, role, PASSWORDS[name], totp_secret=TOTP_SECRETS.get(name))
    engine.dispose()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    uv = uvicorn.Server(config)
    with TestClient(sandbox):  # the sandbox's lifespan (its database engine)
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not uv.started:
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.05)
        yield url
        uv.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--disable-gpu"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(browser: Any, name: str) -> None:
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def css(browser: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, selector)


def click(browser: Any, selector: str) -> None:
    """Click a submit button (or link) and wait for the next page to replace this one."""
    follow(browser, lambda: css(browser, selector))


def page_mark(browser: Any) -> str | None:
    """The mark the console puts on each page it renders (`<html data-page>`), once that
    page has finished loading; None while a page is still coming."""
    mark = browser.execute_script(
        "return document.readyState === 'complete'"
        " ? document.documentElement.getAttribute('data-page') : null;"
    )
    return str(mark) if mark else None


def follow(browser: Any, find: Any) -> None:
    """Click what `find()` returns on a page that has loaded, then wait for the next page's
    own mark: a new rendering, drawn in full. Nothing here asks about the old page's nodes
    while it is being replaced; while the browser is between pages, its answers to the
    mark's question are errors, which the wait reads as "not yet"."""
    from selenium.common.exceptions import WebDriverException

    between_pages = (WebDriverException,)
    before = WebDriverWait(browser, 15, ignored_exceptions=between_pages).until(page_mark)
    find().click()
    WebDriverWait(browser, 15, ignored_exceptions=between_pages).until(
        lambda b: page_mark(b) not in (None, before)
    )


def fill(browser: Any, form: str, **fields: str) -> None:
    for name, value in fields.items():
        field = css(browser, f"{form} [name={name}]")
        field.clear()
        field.send_keys(value)


def sign_in(browser: Any, server: str, name: str, lang: str) -> None:
    """Name and password; a supervisor then types the code of his authenticator app (the
    next one when this one was used by an earlier sign-in)."""
    browser.delete_all_cookies()
    browser.get(f"{server}/console/signin?lang={lang}")
    fill(browser, "#signin", name=name, password=PASSWORDS[name])
    click(browser, "#signin button")
    if name in TOTP_SECRETS:
        for code in totp_codes(TOTP_SECRETS[name]):
            assert browser.find_elements("css selector", "#totp-form")
            fill(browser, "#totp-form", code=code)
            click(browser, "#totp-form button")
            if not browser.find_elements("css selector", "#totp-form"):
                break
    assert css(browser, "#operator").text.startswith(name)


def look_up(browser: Any, server: str, phone: str) -> None:
    """The lookup as an agent does it: the number typed into the form (a POST)."""
    browser.get(f"{server}/console/lookup")
    fill(browser, "#lookup-form", phone=phone)
    click(browser, "#lookup-form button")


def wrong_sms_answers(server: str, phone: str, times: int) -> None:
    """The parent's own wrong code and birth date by SMS (Twilio's signed webhook): the
    gateway's lockout of that phone counts them."""
    url = f"{server}/channels/sms/twilio"
    for i in range(times):
        params = {
            "MessageSid": f"SM{phone[-4:]}{i}{int(time.time() * 1000)}",
            "AccountSid": "AC" + "1" * 32,
            "From": phone,
            "To": "+212500000000",
            "Body": "Z990000003 01012001",
            "NumMedia": "0",
            "NumSegments": "1",
        }
        signature = sign_twilio(url, params, TWILIO_TOKEN)
        response = httpx.post(url, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text


def assert_direction(browser: Any, lang: str) -> None:
    """The page is really laid out right-to-left in Arabic: attributes, computed style, and
    the first column of a table drawn to the right of the last."""
    expected = "rtl" if lang == "ar" else "ltr"
    assert browser.execute_script("return document.documentElement.dir") == expected
    assert browser.execute_script("return document.documentElement.lang") == lang
    computed = browser.execute_script("return getComputedStyle(document.body).direction")
    assert computed == expected
    cells = browser.execute_script(
        "const th = document.querySelectorAll('table tr:first-child th');"
        "return [th[0].getBoundingClientRect().left, th[th.length-1].getBoundingClientRect().left]"
    )
    first, last = cells
    assert (first > last) if lang == "ar" else (first < last)


@pytest.mark.parametrize("lang", LANGS)
def test_an_agent_looks_up_the_demo_phone_and_checks_a_child(
    server: str, browser: Any, lang: str
) -> None:
    sign_in(browser, server, "amina", lang)
    fill(browser, "#lookup-form", phone="06 00 00 00 01")
    click(browser, "#lookup-form button")
    assert "+212*******01" in css(browser, "#phone h2").text
    assert "0600000001" not in browser.current_url  # a POST: no number in the history
    assert_direction(browser, lang)
    before = css(browser, "main").text
    for name in ("Khadija", "خديجة", "Youssef", "يوسف", "Salma", "سلمى"):
        assert name not in before, name
    assert not browser.find_elements("css selector", "#absences")
    shot(browser, f"lookup-before-check-{lang}")
    fill(browser, "#verify", code="Z990000001", birth_date="14/09/2018")
    click(browser, "#verify button")
    assert css(browser, "#absences").is_displayed()
    assert ("يوسف" if lang == "ar" else "Youssef") in css(browser, ".revealed h4").text
    shot(browser, f"lookup-checked-{lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_a_supervisor_clears_a_lockout(server: str, browser: Any, lang: str) -> None:
    # Two of the parent's own wrong answers by SMS: counted by the gateway's lockout (and by
    # Massar's, which locks at the third: the other tests still check these phones' children).
    phone = "+212700000001" if lang == "ar" else "+212600000002"
    wrong_sms_answers(server, phone, 2)
    sign_in(browser, server, "samir", lang)
    look_up(browser, server, phone)
    assert css(browser, "#clear-lockout").is_displayed()
    shot(browser, f"lockout-{lang}")
    fill(browser, "#clear-lockout", reason="Le parent a confondu les dates")
    click(browser, "#clear-lockout button")
    assert css(browser, ".note").text == said("The lockout of this number is cleared.", lang)
    assert (
        said("Not locked (%(n)s wrong answers in the last 24 hours).", lang, n=0)
        in css(browser, "#lockout").text
    )
    shot(browser, f"lockout-cleared-{lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_the_simulator_walks_a_ussd_session_to_the_absences(
    server: str, browser: Any, lang: str
) -> None:
    browser.delete_all_cookies()
    browser.get(f"{server}/console/simulator?channel=ussd&phone=%2B212600000002&lang={lang}")
    click(browser, "#dial")
    click(browser, "button[name=press][value='1']")
    for typed in ("Z990000003", "14032012"):
        fill(browser, "#send", text=typed)
        click(browser, "#send-button")
    bubbles = browser.find_elements("css selector", "#handset .bubble[data-who=gateway]")
    assert "Adam" in bubbles[-1].text or "آدم" in bubbles[-1].text
    assert "GSM-7" in bubbles[-1].text or "UCS-2" in bubbles[-1].text
    assert "absences" in css(browser, "#session").text
    assert_direction_of_page(browser, lang)
    shot(browser, f"simulator-ussd-{lang}")


def assert_direction_of_page(browser: Any, lang: str) -> None:
    expected = "rtl" if lang == "ar" else "ltr"
    assert browser.execute_script("return getComputedStyle(document.body).direction") == expected


@pytest.mark.parametrize("lang", LANGS)
def test_a_telegram_session_with_contact_sharing(server: str, browser: Any, lang: str) -> None:
    """Share the contact, then tap the inline keyboard's buttons to the child's absences."""
    browser.delete_all_cookies()
    browser.get(f"{server}/console/simulator?channel=telegram&phone=%2B212600000001&lang={lang}")
    click(browser, "#share")
    assert "+212600000001" in css(browser, "#handset .bubble[data-who=phone]").text
    menu = {"ar": "خدمات مسار", "fr": "Services Massar"}[lang]

    def last_answer() -> str:
        return str(
            browser.find_elements("css selector", "#handset .bubble[data-who=outbox]")[-1].text
        )

    assert browser.find_elements("css selector", "#handset .bubble[data-who=outbox]")
    if "abs" not in {b.get_attribute("value") for b in live_buttons(browser)}:
        fill(browser, "#send", text="Menu")
        click(browser, "#send-button")
    if menu not in last_answer():
        click(browser, "button.option[value=lang]:not([disabled])")  # to the page's language
    assert menu in last_answer()
    click(browser, "button.option[value=abs]:not([disabled])")
    for typed in ("Z990000001", "14092018"):
        fill(browser, "#send", text=typed)
        click(browser, "#send-button")
    assert ("يوسف" if lang == "ar" else "Youssef") in last_answer()
    assert "absences" in css(browser, "#session").text  # the Telegram session, beside
    assert_direction_of_page(browser, lang)
    answers = browser.find_elements("css selector", "#handset .bubble[data-who=outbox]")
    browser.execute_script("arguments[0].scrollIntoView()", answers[-1])
    shot(browser, f"simulator-telegram-{lang}")


def live_buttons(browser: Any) -> list[Any]:
    return list(browser.find_elements("css selector", "#handset button.option:not([disabled])"))


@pytest.mark.parametrize("lang", LANGS)
def test_an_unclear_sms_is_answered_from_the_queue(server: str, browser: Any, lang: str) -> None:
    # letters only: the queue hides every word holding a digit (a code, a date) from agents
    stamp = str(int(time.time() * 1000) % 10**8)
    word = f"zq{lang}" + "".join(chr(ord("a") + int(d)) for d in stamp)
    sign_in(browser, server, "amina", lang)
    sms = f"{server}/console/simulator?channel=sms&phone=%2B212600000099&lang={lang}"
    browser.get(sms)
    fill(browser, "#send", text=f"{word} xqzzy")
    click(browser, "#send-button")
    browser.get(f"{server}/console/helpdesk")
    link = next(
        row.find_element("css selector", "a")
        for row in browser.find_elements("css selector", "#queue tr")
        if word in row.text
    )
    follow(browser, lambda: link)
    click(browser, "#take button")
    answer = "Envoyez ABS pour les absences." if lang == "fr" else "أرسلوا غياب لمعرفة الغياب."
    fill(browser, "#answer", text=answer)
    click(browser, "#answer button")
    assert word not in css(browser, "#queue").text
    shot(browser, f"helpdesk-answered-{lang}")
    # The parent's phone gets the answer through the outbox: the simulator shows it.
    for _ in range(50):
        browser.get(sms)
        if answer in css(browser, "#handset").text:
            break
        time.sleep(0.2)
    assert answer in css(browser, "#handset").text
    shot(browser, f"simulator-sms-answer-{lang}")


def test_script_typed_into_fields_is_shown_never_run(server: str, browser: Any) -> None:
    evil = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
    browser.delete_all_cookies()
    browser.get(f"{server}/console/simulator?channel=sms&phone=%2B212600000099&lang=fr")
    fill(browser, "#send", text=evil)
    click(browser, "#send-button")
    sign_in(browser, server, "samir", "fr")
    fill(browser, "#lookup-form", phone=evil)
    click(browser, "#lookup-form button")
    assert css(browser, "[name=phone]").get_attribute("value") == evil[:64]  # maxlength
    look_up(browser, server, "+212600000099")
    fill(browser, "#verify", code=evil, birth_date=evil)
    click(browser, "#verify button")
    browser.get(f"{server}/console/helpdesk")
    assert browser.title != "pwned"
    assert "pwned" in css(browser, "#queue").text  # shown as text
    shot(browser, "script-escaped")
