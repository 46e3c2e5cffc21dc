"""test_captions.py - issue 12 through the HTTP API and the CLI: normalization_options change what
is read (Kokoro-FastAPI's names and defaults), word timestamps carry the word as written with
its character offsets (plain text, Unicode, SSML), /dev/captioned_speech's "captions" gives SRT
or WebVTT whose cues are readable and in time with the audio, and `kokoro say --captions` writes
the same."""
import base64
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import wave

import numpy as np
import pytest

from conftest import BIN, ROOT, error_of, post, probe

sys.path.insert(0, os.path.join(ROOT, "tests", "asr"))
import align  # noqa: E402
import asr  # noqa: E402

CAPTIONED = "/dev/captioned_speech"


def captioned(api, text, **extra):
    body = {"input": text, "voice": "af_heart", "response_format": "wav", "stream": False}
    body.update(extra)
    r = post(api + CAPTIONED, body)
    assert r.status_code == 200, r.text
    return r.json()


def spoken_of(body, written):
    return [t["spoken"] for t in body["timestamps"] if t["word"] == written]


# ------------------------------------------------------------------ normalization_options

def test_normalization_defaults_follow_kokoro_fastapi(api):
    # FastAPI's default: units are not expanded (unit_normalization false), the rest is on
    b = captioned(api, "It weighs 3 kg and costs $5.")
    assert spoken_of(b, "$5") == ["five dollars"], b["timestamps"]
    assert "kilograms" not in " ".join(t["spoken"] for t in b["timestamps"])
    b = captioned(api, "It weighs 3 kg.", normalization_options={"unit_normalization": True})
    assert spoken_of(b, "3 kg") == ["three kilograms"], b["timestamps"]


@pytest.mark.parametrize("field,text,written,on,off", [
    ("normalize", "Dr. Smith paid $5.", "Dr.", "Doctor", None),
    ("url_normalization", "See https://example.com now.", "https://example.com",
     "example dot com", None),
    ("email_normalization", "Mail bob@example.com now.", "bob@example.com",
     "bob at example dot com", None),
    ("phone_normalization", "Call 555-123-4567 now.", "555-123-4567",
     "five five five one two three four five six seven", None),
    ("optional_pluralization_normalization", "Pick the item(s) now.", "item(s)", "items", None),
    ("replace_remaining_symbols", "Salt & pepper.", "&", "and", None),
])
def test_each_normalization_option_switches_its_part(api, field, text, written, on, off):
    b_on = captioned(api, text)
    assert on in " ".join(spoken_of(b_on, written)), b_on["timestamps"]
    b_off = captioned(api, text, normalization_options={field: False})
    said = " ".join(t["spoken"] for t in b_off["timestamps"])
    assert on not in said, (field, b_off["timestamps"])


@pytest.mark.audio
def test_normalization_options_are_heard(api, whisper):
    """Whisper hears the unit read out only when asked for."""

    def heard(**extra):
        r = post(api + "/v1/audio/speech", {"input": "The box weighs 7 kg.", "voice": "af_heart",
                                            "response_format": "wav", "stream": False, **extra})
        assert r.status_code == 200, r.text
        with tempfile.NamedTemporaryFile(suffix=".wav") as f:
            f.write(r.content)
            f.flush()
            return " ".join(asr.normalise(asr.transcribe(whisper, f.name)))

    assert "kilogram" in heard(normalization_options={"unit_normalization": True})
    assert "kilogram" not in heard()


@pytest.mark.parametrize("opts,param", [
    ({"normalize": "yes"}, "normalize"),
    ({"unit_normalisation": True}, "unit_normalisation"),
    ([True], "normalization_options"),
])
def test_bad_normalization_options_are_400(api, opts, param):
    r = post(api + "/v1/audio/speech", {"input": "Hello.", "normalization_options": opts})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param
    assert error_of(r, "openai") == "ValidationError"


# ------------------------------------------------------------------ written words and offsets

def test_timestamps_carry_the_written_word_and_its_offsets(api):
    text = "Dr. Smith paid $25.50 in Zürich on 3/4/2024 — “fine,” she said. Call 1-800-555-0199!"
    b = captioned(api, text)
    ts = b["timestamps"]
    for t in ts:  # every word is the input as written, at its offsets (characters, not bytes)
        assert t["start_char"] is not None, t
        assert text[t["start_char"]:t["end_char"]] == t["word"], t
    words = [t["word"] for t in ts]
    assert words == ["Dr.", "Smith", "paid", "$25.50", "in", "Zürich", "on", "3/4/2024", "fine",
                     "she", "said", "Call", "1-800-555-0199"], words
    assert spoken_of(b, "$25.50") == ["twenty-five dollars and fifty cents"]
    starts = [t["start_time"] for t in ts]
    assert starts == sorted(starts)
    assert all(t["start_time"] <= t["end_time"] for t in ts)


def test_ssml_words_are_found_in_the_markup(api):
    text = ('<speak>Hello <break time="300ms"/> <emphasis>brave</emphasis> new '
            '<sub alias="World Wide Web">WWW</sub> world, <say-as interpret-as="characters">abc'
            '</say-as>.</speak>')
    ts = captioned(api, text)["timestamps"]
    found = [t for t in ts if t["start_char"] is not None]
    assert [t["word"] for t in found][:3] == ["Hello", "brave", "new"], ts
    for t in found:
        assert text[t["start_char"]:t["end_char"]] == t["word"]
        assert "<" not in t["word"] and ">" not in t["word"]
    offs = [t["start_char"] for t in found]
    assert offs == sorted(offs)


REWRITTEN = ('<speak>In Zürich the <sub alias="World Wide Web Consortium">W3C</sub> met '
             '<say-as interpret-as="characters">IBM</say-as> on <say-as interpret-as="cardinal">'
             ' 1,234 </say-as> days, ate a <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme>'
             ' and called <say-as interpret-as="telephone">555-0199</say-as>.</speak>')


def test_ssml_rewritten_words_carry_the_markup_as_written(api):
    """<sub>, <say-as> and <phoneme>: one timestamp each, the element's content as written (at
    its character offsets in the SSML, after a non-ASCII word) and what was read as spoken."""
    b = captioned(api, REWRITTEN, captions="srt")
    ts = b["timestamps"]
    for t in ts:
        assert t["start_char"] is not None, t
        assert REWRITTEN[t["start_char"]:t["end_char"]] == t["word"], t
    assert [t["word"] for t in ts] == ["In", "Zürich", "the", "W3C", "met", "IBM", "on", "1,234",
                                       "days", "ate", "a", "tomato", "and", "called",
                                       "555-0199"], ts
    spoken = {t["word"]: t["spoken"] for t in ts}
    assert spoken["W3C"] == "World Wide Web Consortium"
    assert spoken["1,234"] == "one thousand two hundred thirty-four"
    assert spoken["IBM"].replace(" ", "").lower() == "ibm"
    assert spoken["555-0199"].startswith("five five five")
    starts = [t["start_time"] for t in ts]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # the captions show the markup's words with the punctuation after their end tags
    shown = " ".join(" ".join(c[2]) for c in cues(b["captions"], False))
    assert shown == ("In Zürich the W3C met IBM on 1,234 days, ate a tomato and called "
                     "555-0199."), shown


# ------------------------------------------------------------------ captions

def cues(text, vtt):
    """[(start_s, end_s, [lines])] of SRT or WebVTT text, checking its framing."""
    if vtt:
        assert text.startswith("WEBVTT\n\n")
        text = text[len("WEBVTT\n\n"):]
    out = []
    sep = "." if vtt else ","
    pat = re.compile(r"(\d\d):(\d\d):(\d\d)" + re.escape(sep) + r"(\d\d\d)")

    def secs(s):
        h, m, sec, ms = map(int, pat.fullmatch(s).groups())
        return h * 3600 + m * 60 + sec + ms / 1000

    for n, block in enumerate(b for b in text.split("\n\n") if b.strip()):
        lines = block.split("\n")
        if not vtt:
            assert lines[0] == str(n + 1), block
            lines = lines[1:]
        a, b = lines[0].split(" --> ")
        out.append((secs(a), secs(b), lines[1:]))
    return out


STORY = ("The committee met on Tuesday morning to talk about the new library, which everyone "
         "had wanted for years. Everyone agreed that the old building, which had stood since "
         "1921, was too small. After a long discussion, they voted to build a larger one near "
         "the river! Work begins next spring; it should take about 18 months.")


SHORT = "Short sentences work too, as the stream shows. Two of them & <tags>."


@pytest.mark.parametrize("fmt", [pytest.param("srt", marks=pytest.mark.audio), "vtt"])
def test_captions_are_readable_and_in_time(api, fmt):
    if fmt == "vtt":  # the rules are the same; WebVTT's framing and escaping on a short text
        b = captioned(api, SHORT, captions="vtt")
        cs = cues(b["captions"], True)
        assert " ".join(" ".join(c[2]) for c in cs) == SHORT.replace("&", "&amp;").replace(
            "<", "&lt;").replace(">", "&gt;")
        return
    b = captioned(api, STORY, captions=fmt)
    dur = probe(base64.b64decode(b["audio"]))["duration"]
    cs = cues(b["captions"], fmt == "vtt")
    assert len(cs) >= 4
    last = 0.0
    for a, e, lines in cs:
        assert last <= a <= e <= dur + 0.05, (a, e, last, dur)
        last = e
        assert 1 <= len(lines) <= 2 and all(0 < len(x) <= 42 for x in lines), lines
    shown = " ".join(" ".join(lines) for _, _, lines in cs)
    assert shown == STORY.replace("  ", " "), shown  # every word as written, in order, once
    # sentence ends close cues; a cue's line break prefers the punctuation inside it
    ends = [" ".join(lines) for _, _, lines in cs]
    for sentence_end in ("years.", "small.", "river!", "months."):
        assert any(x.endswith(sentence_end) for x in ends), ends
    # the audio is not longer than the words by more than the model's closing silence
    assert dur - cs[-1][1] < 0.6


@pytest.mark.audio
def test_word_starts_are_where_the_words_are_heard(api):
    """Issue 12's timing target (median <= 50 ms, p90 <= 120 ms) held against a clock that knows
    the words: pocketsphinx's forced alignment of what each timestamp says was spoken
    (tests/asr/align.py; Whisper tiny.en is itself 80-100 ms late at acoustic landmarks,
    docs/text.md). And no steady lag either way: a word shown late on screen is the complaint."""
    signed, unaligned = [], []
    for text in asr.written_sentences()[::3]:  # 14 of the 40: numbers, dates, abbreviations and prose
        b = captioned(api, text)
        with wave.open(io.BytesIO(base64.b64decode(b["audio"]))) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768.0
        starts = align.timestamp_starts(b["timestamps"], pcm, rate)
        if starts is None:
            unaligned.append(text)
            continue
        signed += [t["start_time"] - at for t, at in zip(b["timestamps"], starts)
                   if at is not None]
    assert len(unaligned) <= 2, unaligned
    assert len(signed) >= 80
    d = sorted(abs(x) for x in signed)
    median, p90 = d[len(d) // 2], d[int(0.9 * (len(d) - 1))]
    lag = sorted(signed)[len(signed) // 2]
    assert median <= 0.050 and p90 <= 0.120, (median, p90)
    assert abs(lag) <= 0.030, lag


def test_captions_stream_as_a_last_line(api):
    r = post(api + CAPTIONED, {"input": "One sentence here. And another one.", "captions": "vtt",
                               "response_format": "pcm"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(x) for x in r.text.splitlines() if x]
    assert "captions" in lines[-1] and not any("captions" in x for x in lines[:-1])
    assert lines[-1]["captions"].startswith("WEBVTT")
    cs = cues(lines[-1]["captions"], True)
    assert " ".join(" ".join(c[2]) for c in cs) == "One sentence here. And another one."


def test_bad_captions_value_is_400(api):
    r = post(api + CAPTIONED, {"input": "Hello.", "captions": "ass"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "captions"
    r = post(api + "/v1/audio/speech", {"input": "Hello.", "captions": "srt"})
    assert r.status_code == 400  # captions are a field of /dev/captioned_speech only


@pytest.mark.audio
def test_long_text_does_not_drift(api):
    """About a minute of speech in one request: the last word ends with the audio.
    bench/caption_timing.py does the same over 20 minutes."""
    times = 4
    text = " ".join([STORY] * times)
    b = captioned(api, text, captions="srt")
    dur = probe(base64.b64decode(b["audio"]))["duration"]
    ts = b["timestamps"]
    assert dur > 12 * times
    assert len(ts) == times * len(STORY.split())  # one timestamp per written word
    assert dur - 0.6 < ts[-1]["end_time"] <= dur + 0.01, (ts[-1], dur)
    cs = cues(b["captions"], False)
    assert dur - 0.6 < cs[-1][1] <= dur + 0.01


# ------------------------------------------------------------------ CLI

@pytest.mark.parametrize("ext", [pytest.param("srt", marks=pytest.mark.audio), "vtt"])
def test_cli_say_writes_captions(ext):
    text = STORY if ext == "srt" else SHORT
    with tempfile.TemporaryDirectory() as d:
        wav, cap = os.path.join(d, "out.wav"), os.path.join(d, "out." + ext)
        r = subprocess.run([BIN, "say", "--captions", cap, "-o", wav, text], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        with open(wav, "rb") as f:
            dur = probe(f.read())["duration"]
        with open(cap) as f:
            cs = cues(f.read(), ext == "vtt")
        shown = " ".join(" ".join(c[2]) for c in cs)
        if ext == "vtt":
            shown = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert shown == text
        assert all(len(x) <= 42 for c in cs for x in c[2]) and all(len(c[2]) <= 2 for c in cs)
        assert dur - 0.6 < cs[-1][1] <= dur + 0.01


def test_cli_captions_show_ssml_as_written():
    with tempfile.TemporaryDirectory() as d:
        wav, cap = os.path.join(d, "out.wav"), os.path.join(d, "out.vtt")
        r = subprocess.run([BIN, "say", "--captions", cap, "-o", wav, REWRITTEN], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        with open(cap) as f:
            cs = cues(f.read(), True)
        shown = " ".join(" ".join(c[2]) for c in cs)
        assert shown == ("In Zürich the W3C met IBM on 1,234 days, ate a tomato and called "
                         "555-0199."), shown


def test_cli_refuses_other_caption_files():
    r = subprocess.run([BIN, "say", "--captions", "x.txt", "-o", "/tmp/x.wav", "Hi."], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and ".srt or .vtt" in r.stderr


@pytest.mark.audio
def test_cli_normalization_switches(whisper):
    """kokoro say normalises everything by default; --normalization turns parts off."""
    heard = {}
    with tempfile.TemporaryDirectory() as d:
        for name, extra in (("default", []), ("off", ["--normalization",
                                                      "unit_normalization=false,normalize=true"])):
            wav = os.path.join(d, name + ".wav")
            r = subprocess.run([BIN, "say", *extra, "-o", wav, "The box weighs 7 kg."], cwd=ROOT,
                               capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, r.stderr
            heard[name] = " ".join(asr.normalise(asr.transcribe(whisper, wav)))
    assert "kilogram" in heard["default"] and "kilogram" not in heard["off"], heard
    r = subprocess.run([BIN, "say", "--normalization", "units=false", "-o", "/tmp/x.wav", "Hi."],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--normalization" in r.stderr


# ------------------------------------------------------------------ front-end errors (issue 12)

FRONT_END = [
    ("Call 1-800-555-0199 today.", "Call one, eight zero zero, five five five, zero one nine nine today."),
    ("I read the book yesterday.", "I red the book yesterday."),
    ("He read it twice.", "He red it twice."),
    ("I read books every day.", "I reed books every day."),
    ("Key " + "1234567890" * 5 + " ok.", "Key " + " ".join(
        "one two three four five six seven eight nine zero".split() * 5) + " ok."),
    ("The U.S. Navy sailed.", "The U-S Navy sailed."),
]


@pytest.mark.parametrize("written,said", FRONT_END)
def test_front_end_fixes_through_http_and_cli(api, written, said):
    def http(text):
        r = post(api + "/dev/phonemize", {"text": text, "language": "en-us"})
        assert r.status_code == 200, r.text
        return r.json()["phonemes"]

    def cli(text):
        r = subprocess.run([BIN, "phonemize", text], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    assert http(written) == http(said)
    assert cli(written) == cli(said) == http(said)
