from tests.gateway.conftest import UssdPhone, SmsPhone
from gateway.text import screen_length, segments

def show(s):
    body = s[4:]
    print(repr(s), "| len", screen_length(body), segments(body).encoding)

def test_probe(gateway, spare_guardian_phone, backend_calls):
    print("spare", spare_guardian_phone)
    p = UssdPhone(gateway, "+212600000001")
    show(p.dial())
    for k in ["1", "Z990000001", "14092018", "7", "9", "9", "0", "5", "1", "1", "7", "0", "2", "1", "9", "9", "0", "3", "1", "PRE-2026-0000001", "01062020", "0", "4", "0", "2"]:
        print(">", k); show(p.press(k))
    print(backend_calls())

def test_probe_fr(gateway):
    p = UssdPhone(gateway, "+212600000002")
    show(p.dial())
    for k in ["1", "Z123456780", "01012015", "Z990000003", "14032012", "9", "7", "0", "2", "1", "9", "9","7"]:
        print(">", k); show(p.press(k))
    p = UssdPhone(gateway, "+212600000099")
    show(p.dial())
    for k in ["x", "1", "PRE-2026-0000002", "20022020", "3", "0", "3"]:
        print(">", k); show(p.press(k))
