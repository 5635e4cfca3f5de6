"""What the hotline's menu says besides the dialogs' screens, as gettext msgids."""

from __future__ import annotations

from gateway.i18n import N_

FOR_ARABIC = N_("For Arabic, press one.")  # said in Arabic, whatever the caller's language
FOR_FRENCH = N_("For French, press two.")  # said in French
FOR_DARIJA = N_("For Darija, press three.")  # played in Darija (its Arabic text is the script)
OPTION = N_("For %(label)s, press %(key)s.")
WAY_OUT = N_("To hear this again, press nine. To speak to an agent, press zero.")
NO_KEY = N_("I did not hear a key.")
WRONG_KEY = N_("This key is not offered here.")
TO_AGENT = N_("Please hold, an agent will answer you.")
NO_AGENT = N_("No agent can answer now. Please call again later.")
GOODBYE = N_("Thank you for calling. Goodbye.")
SESSION_ENDED = N_("Your previous call has ended. Let us start again.")
