"""The hotline's voice menu: a channel-neutral menu model, speech, recordings, and Twilio."""
