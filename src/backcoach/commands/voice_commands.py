"""`backcoach say`, `voices` and `doctor`: the voice pipeline and the machine check from a shell.

`say` uses the app's own pipeline: the settings file's voice, rate and volume, the speech
worker (with its watchdog), the phrase cache and the playback the app would choose. None
of these commands starts Qt in this process.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import time
from pathlib import Path

EXIT_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the voice commands."""
    p = subparsers.add_parser("say", help="speak TEXT with the coach's voice (or write a WAV)")
    p.add_argument("text", help="what to say")
    p.add_argument("--out", metavar="FILE.wav", help="write the speech to FILE.wav instead of playing it")
    p.add_argument("--voice", metavar="ID", help="voice id (see `backcoach voices`); default: settings")
    p.add_argument("--rate", type=int, metavar="WPM", help="words per minute; default: settings")
    p.add_argument("--volume", type=float, metavar="0..1", help="volume; default: settings")
    p.set_defaults(func=cmd_say)
    p = subparsers.add_parser("voices", help="list the speech engine's voices")
    p.add_argument("--all", action="store_true", help="every language, not only English")
    p.set_defaults(func=cmd_voices)
    p = subparsers.add_parser("doctor", help="check Qt, speech, sound and folders; print fixes")
    p.set_defaults(func=cmd_doctor)


def _voice_settings(args: argparse.Namespace):
    """The voice settings from the settings file, with the command line's overrides."""
    from backcoach.cli import UsageError
    from backcoach.store.paths import resolve_paths
    from backcoach.store.settings import load_settings

    result = load_settings(resolve_paths(args.home).settings_file)
    if result.problem:
        print(f"backcoach: {result.problem}", file=sys.stderr)
    voice = result.settings.voice
    changes = {}
    if getattr(args, "voice", None) is not None:
        changes["voice_id"] = args.voice
    if getattr(args, "rate", None) is not None:
        if not 80 <= args.rate <= 400:
            raise UsageError("--rate must be between 80 and 400 words per minute")
        changes["rate"] = args.rate
    if getattr(args, "volume", None) is not None:
        if not 0.0 <= args.volume <= 1.0:
            raise UsageError("--volume must be between 0 and 1")
        changes["volume"] = args.volume
    return dataclasses.replace(voice, **changes)


def _worker(home: str | None, problems: list[str]):
    from backcoach.store.paths import resolve_paths
    from backcoach.voice.cache import PhraseCache
    from backcoach.voice.speech import SpeechWorker

    folder = resolve_paths(home).cache_dir / "voice"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="backcoach-voice-"))
    return SpeechWorker(cache=PhraseCache(folder), on_problem=problems.append)


def cmd_say(args: argparse.Namespace) -> int:
    """Render TEXT and play it (or write it with --out)."""
    from backcoach.cli import UsageError
    from backcoach.voice.cache import VoiceParams
    from backcoach.voice.speech import DEFAULT_HANG_TIMEOUT

    if not args.text.strip():
        raise UsageError("nothing to say: TEXT is empty")
    settings = _voice_settings(args)
    problems: list[str] = []
    worker = _worker(args.home, problems)
    try:
        try:
            sound = worker.render(args.text, VoiceParams.from_settings(settings), priority=0).result(
                DEFAULT_HANG_TIMEOUT * 2 + 5)
        except Exception as exc:
            print(f"backcoach: {problems[0] if problems else exc}", file=sys.stderr)
            return EXIT_FAILED
    finally:
        worker.shutdown()
    if args.out:
        out = Path(args.out)
        try:
            shutil.copyfile(sound.path, out)
        except OSError as exc:
            print(f"backcoach: could not write {out}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"wrote {out} ({sound.duration:.2f} s)")
        return 0
    return _play(sound)


def _play(sound) -> int:
    from backcoach.voice.playback import choose_playback

    choice = choose_playback(prefer=("aplay",) if sys.platform.startswith("linux") else ("qt",))
    if choice.problem:
        print(f"backcoach: {choice.problem}", file=sys.stderr)
        print("backcoach: (use --out FILE.wav to save the speech instead)", file=sys.stderr)
        return EXIT_FAILED
    app = None
    if choice.playback.name == "qt":
        from PySide6.QtCore import QCoreApplication

        app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    playback = choice.playback
    playback.play(sound)
    end = time.monotonic() + sound.duration + 0.3
    while time.monotonic() < end:
        if app is not None:
            app.processEvents()
        time.sleep(0.02)
    problems = playback.problems()
    playback.close()
    for message in problems:
        print(f"backcoach: {message}", file=sys.stderr)
    return EXIT_FAILED if problems else 0


def cmd_voices(args: argparse.Namespace) -> int:
    """List the voices the engine offers (id, name, languages)."""
    problems: list[str] = []
    worker = _worker(args.home, problems)
    try:
        worker.wait_ready(15.0)
        voices = worker.voices()
    finally:
        worker.shutdown()
    if not voices:
        print(f"backcoach: {problems[0] if problems else 'the speech engine listed no voices'}",
              file=sys.stderr)
        return EXIT_FAILED
    for v in sorted(voices, key=lambda v: v.id):
        if args.all or v.id.lower().rsplit("/", 1)[-1].startswith("en"):
            print(f"{v.id:28} {v.name:32} {','.join(v.languages)}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the machine; exit 1 if something BackCoach needs is broken."""
    from backcoach.voice.diagnose import Level, format_findings, run_checks

    findings = run_checks(args.home)
    print(format_findings(findings))
    return EXIT_FAILED if any(f.level is Level.FAIL for f in findings) else 0
