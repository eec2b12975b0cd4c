"""What a finished session leaves in memory: no OpenSSL for file names, no pictures, no sounds."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from backcoach.voice.cache import CACHE_FORMAT, PhraseCache, VoiceParams


def test_phrase_files_keep_their_names(tmp_path: Path) -> None:
    """A phrase's file name is still the SHA-256 it always was, so rendered phrases stay cached."""
    params = VoiceParams("gmw/en", 170, 0.8)
    raw = f"{CACHE_FORMAT}|pyttsx3|{sys.platform}|gmw/en|170|0.80|Breathe in"
    expected = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
    assert PhraseCache(tmp_path).path_for(params, "Breathe in").name == f"{expected}.wav"


def test_the_voice_does_not_load_openssl() -> None:
    """Loading the voice and naming a phrase's file imports neither hashlib nor OpenSSL's _hashlib."""
    code = ("import sys; from pathlib import Path\n"
            "import backcoach.voice.coach, backcoach.voice.speech\n"
            "from backcoach.voice.cache import PhraseCache, VoiceParams\n"
            "PhraseCache(Path('.')).path_for(VoiceParams(), 'Rest')\n"
            "print(sorted(m for m in ('hashlib', '_hashlib', 'ssl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         check=True)
    assert out.stdout.strip() == "[]"
