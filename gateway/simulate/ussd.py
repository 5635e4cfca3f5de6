"""USSD through Africa's Talking: each request carries the whole `*`-joined input path."""

from __future__ import annotations

import uuid

from gateway.simulate.phones import Phone, register

USSD_ROUTE = "/channels/ussd/africastalking"


@register("ussd")
class AfricasTalkingUssdPhone(Phone):
    dials_first = True
    screen = "ussd"
    session_channel = "ussd"

    session_id: str | None = None
    path: list[str]

    async def send(self, text: str) -> str:
        if self.session_id is None or not text:
            self.session_id, self.path = f"ATUid_{uuid.uuid4().hex[:12]}", []
            if text:
                self.path.append(text)
        else:
            self.path.append(text)
        token = self.settings.at_ussd_token
        response = await self.http.post(
            USSD_ROUTE,
            params={"token": token.get_secret_value() if token else ""},
            data={
                "sessionId": self.session_id,
                "serviceCode": "*2020#",
                "phoneNumber": self.phone,
                "networkCode": "60400",
                "text": "*".join(self.path),
            },
        )
        body = (
            response.text
            if response.status_code == 200
            else f"[{response.status_code}] {response.text}"
        )
        if body.startswith("END"):
            self.session_id = None
        return body
