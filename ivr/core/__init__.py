"""The pure core: flows, prompts, the engine, hours and spoken words; no Flask, Twilio or SQLAlchemy."""
