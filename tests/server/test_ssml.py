"""test_ssml.py - SSML and the plain-text controls through the HTTP API and the CLI: breaks
and [pause:] add their silence, prosody changes the length, <sub>/<phoneme>/<say-as> are
heard (Whisper tiny.en), invalid or hostile SSML is a 400 that says where."""
import os
import subprocess
import sys
import tempfile

import pytest

from conftest import BIN, ROOT, error_of, post, probe

sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
import asr  # noqa: E402

PLAIN = "Hello there. This is a test."


def wav_of(api, text, **extra):
    body = {"text": text, "output_format": "wav", **extra}
    r = post(api + "/synthesize", body)
    assert r.status_code == 200, r.text
    return r.content


def seconds(api, text, **extra):
    return probe(wav_of(api, text, **extra))["duration"]


def heard(whisper, data):
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        f.write(data)
        f.flush()
        return " ".join(asr.normalise(asr.transcribe(whisper, f.name)))


def test_ssml_break_adds_its_time(api):
    base = seconds(api, "<speak>Hello there. This is a test.</speak>")
    longer = seconds(api, '<speak>Hello there. <break time="2s"/> This is a test.</speak>')
    assert 1.6 < longer - base < 2.6, (base, longer)


def test_plain_pause_control_adds_its_time(api):
    base = seconds(api, PLAIN)
    longer = seconds(api, "Hello there. [pause:1.5s] This is a test.")
    assert 1.2 < longer - base < 2.4, (base, longer)
    ms = seconds(api, "Hello there. [pause:500ms] This is a test.")
    assert 0.2 < ms - base < 1.2, (base, ms)


def test_prosody_rate_slows_speech(api):
    normal = seconds(api, "<speak>The quick brown fox jumps over the lazy dog.</speak>")
    slow = seconds(api, '<speak><prosody rate="x-slow">The quick brown fox jumps over the lazy '
                        'dog.</prosody></speak>')
    assert slow > normal * 1.4, (normal, slow)


def test_prosody_volume_is_quieter(api):
    loud = probe(wav_of(api, "<speak>Volume check here.</speak>"))["rms"]
    soft = probe(wav_of(api, '<speak><prosody volume="x-soft">Volume check here.</prosody>'
                             '</speak>'))["rms"]
    assert soft < loud * 0.5, (loud, soft)


@pytest.mark.audio
def test_sub_phoneme_and_say_as_are_heard(api, whisper):
    text = ('<speak>Visit the <sub alias="World Wide Web">WWW</sub> today. '
            'I like <phoneme alphabet="ipa" ph="təˈmeɪtoʊ">tomato</phoneme> soup. '
            'Spell <say-as interpret-as="characters">abc</say-as>.</speak>')
    got = heard(whisper, wav_of(api, text))
    assert "world wide web" in got, got
    assert "tomato" in got, got
    assert "speak" not in got and "alias" not in got, got


@pytest.mark.audio
def test_inline_pronunciation_is_heard(api, whisper):
    got = heard(whisper, wav_of(api, "I like [kokoro](/kəˈkɔɹoʊ/) and [tomato](/təmˈAtO/) soup."))
    assert "tomato" in got and "slash" not in got, got


def test_voice_change_and_speech_api(api):
    text = ('<speak>First voice. <voice name="am_adam">Second voice.</voice> '
            '<voice name="af_bella(2)+af_sky(1)">A blend.</voice></speak>')
    assert seconds(api, text) > 2
    r = post(api + "/v1/audio/speech", {"input": text, "response_format": "wav"})
    assert r.status_code == 200 and probe(r.content)["duration"] > 2
    r = post(api + "/dev/captioned_speech", {"input": text, "stream": False})
    assert r.status_code == 200
    words = [w["word"] for w in r.json()["timestamps"]]
    assert "voice" in " ".join(words).lower() and not any("<" in w for w in words), words


@pytest.mark.parametrize("text,where", [
    ("<speak>Hello <break time='1s'> world</speak>", "line 1"),
    ("<speak>\nHello <b>x</c></speak>", "line 2"),
    ("<speak>Hi &nope; there</speak>", "line 1"),
    ('<!DOCTYPE speak [<!ENTITY a "aaaa">]><speak>&a;</speak>', None),
    ('<speak><break time="11s"/></speak>', "line 1"),
    ('<speak><break time="soon"/></speak>', "line 1"),
    ('<speak><prosody rate="warp">x</prosody></speak>', "line 1"),
    ('<speak><phoneme ph="xyz"><s>bad</s></phoneme></speak>', "line 1"),
    ("<speak>" + "<emphasis>" * 40 + "deep" + "</emphasis>" * 40 + "</speak>", "line 1"),
])
def test_invalid_ssml_is_400_with_position(api, text, where):
    r = post(api + "/synthesize", {"text": text})
    assert r.status_code == 400, r.text
    assert error_of(r) == "ValidationError"
    msg = r.json()["message"]
    if where:
        assert "SSML " + where in msg and "column" in msg, msg
        assert r.json()["details"]["line"] >= 1
    r = post(api + "/v1/audio/speech", {"input": text})
    assert r.status_code == 400 and error_of(r, "openai") == "ValidationError", r.text


def test_doctype_entities_are_refused_not_expanded(api):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            '<speak>&lol2;</speak>')
    r = post(api + "/synthesize", {"text": bomb})
    assert r.status_code == 400 and "DOCTYPE" in r.json()["message"], r.text


def test_unknown_ssml_voice_is_400(api):
    r = post(api + "/synthesize", {"text": '<speak><voice name="zz_nobody">Hi.</voice></speak>'})
    assert r.status_code == 400 and error_of(r) == "UnsupportedVoice", r.text


def test_plain_pause_too_long_is_400(api):
    r = post(api + "/synthesize", {"text": "Wait [pause:60s] now."})
    assert r.status_code == 400 and "pause" in r.json()["message"], r.text


def test_text_that_only_looks_like_markup_is_read(api):
    # not SSML (does not start with <speak), brackets without a control
    assert seconds(api, "a <speaker> said [hello] (there)") > 1


def test_cli_say_speaks_ssml_and_reports_position(tmp_path):
    out = tmp_path / "s.wav"
    ok = subprocess.run([BIN, "say", "-o", str(out),
                         '<speak>One. <break time="1500ms"/> Two.</speak>'], cwd=ROOT,
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert probe(out.read_bytes())["duration"] > 2.0
    bad = subprocess.run([BIN, "say", "-o", str(out), "<speak>\n  <break time='x'/></speak>"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "SSML line 2, column" in bad.stderr, bad.stderr


def test_user_lexicon_wins_in_server_and_cli(tmp_path):
    from conftest import Server
    lex = tmp_path / "lex.json"
    lex.write_text('{"kokoro": "kˈOkəɹO", "gif": "dʒɪf"}', encoding="utf-8")
    s = Server(env={"KOKORO_USER_LEXICON": str(lex)})
    try:
        r = post(s.url + "/dev/phonemize", {"text": "Kokoro likes a gif.", "language": "en-us"})
        assert r.status_code == 200, r.text
        assert "kˈOkəɹO" in r.json()["phonemes"] and "ʤɪf" in r.json()["phonemes"], r.json()
    finally:
        assert s.stop() == 0
    out = tmp_path / "u.wav"
    ok = subprocess.run([BIN, "say", "--user-lexicon", str(lex), "-o", str(out), "A gif."],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and probe(out.read_bytes())["duration"] > 0.5, ok.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    no = subprocess.run([BIN, "say", "--user-lexicon", str(bad), "-o", str(out), "A gif."],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert no.returncode != 0 and "user lexicon" in no.stderr, no.stderr
    # the server's flag, as the variable
    s = Server("--user-lexicon", str(lex))
    try:
        r = post(s.url + "/dev/phonemize", {"text": "A gif.", "language": "en-us"})
        assert r.status_code == 200 and "ʤɪf" in r.json()["phonemes"], r.text
    finally:
        assert s.stop() == 0
