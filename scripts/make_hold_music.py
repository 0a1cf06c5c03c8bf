"""Write ivr/static/hold-music.wav: a soft six-second arpeggio that loops cleanly, made once with the standard
library so the line's default hold music needs no outside service (`python scripts/make_hold_music.py`)."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 8000  # telephone audio: anything finer is thrown away on the call
NOTE_SECONDS = 0.375
# C major, A minor, F major, G major, each chord climbed once: 16 notes, six seconds.
CHORDS = ((261.63, 329.63, 392.00, 523.25), (220.00, 261.63, 329.63, 440.00),
          (174.61, 220.00, 261.63, 349.23), (196.00, 246.94, 293.66, 392.00))
VOLUME = 0.28
TARGET = Path(__file__).resolve().parent.parent / "ivr" / "static" / "hold-music.wav"


def note(frequency: float) -> list[float]:
    """One soft note: a sine with a little second harmonic, quick attack, gentle decay."""
    count = int(RATE * NOTE_SECONDS)
    samples = []
    for index in range(count):
        t = index / RATE
        envelope = min(1.0, t / 0.02) * math.exp(-3.2 * t)
        tone = math.sin(2 * math.pi * frequency * t) + 0.25 * math.sin(4 * math.pi * frequency * t)
        samples.append(VOLUME * envelope * tone / 1.25)
    return samples


def main() -> None:
    samples: list[float] = []
    for chord in CHORDS:
        for frequency in chord:
            samples += note(frequency)
    with wave.open(str(TARGET), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", round(value * 32767)) for value in samples))


if __name__ == "__main__":
    main()
