"""test_openai_sdk.py - the official openai Python SDK talks to the server unchanged."""
import openai
import pytest

from conftest import probe


@pytest.fixture
def client(api):
    return openai.OpenAI(base_url=api + "/v1", api_key="not-needed", max_retries=0, timeout=300)


def test_formats(client):
    # the six formats' bytes over plain HTTP are test_routes' (test_speech_all_six_formats_*);
    # here the SDK sends response_format and hands back the body: a container and raw pcm
    codecs = {"opus": "opus", "pcm": "pcm_s16le"}
    for fmt, codec in codecs.items():
        resp = client.audio.speech.create(model="tts-1", voice="alloy", input="SDK format test.",
                                          response_format=fmt)
        a = probe(resp.content, fmt)
        assert a["codec"] == codec and a["duration"] > 0.4 and a["rms"] > 0.01, (fmt, a)


def test_with_streaming_response(client, tmp_path):
    out = tmp_path / "speech.mp3"
    with client.audio.speech.with_streaming_response.create(
            model="kokoro", voice="af_heart", response_format="mp3", speed=1.2,
            input="Streaming through the SDK. It arrives in pieces.") as resp:
        assert resp.headers["content-type"] == "audio/mpeg"
        pieces = 0
        with open(out, "wb") as f:
            for chunk in resp.iter_bytes():
                f.write(chunk)
                pieces += 1
    a = probe(out.read_bytes())
    assert a["codec"] == "mp3" and a["duration"] > 1.0 and pieces >= 1


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert "tts-1" in ids and "kokoro" in ids
    assert client.models.retrieve("tts-1-hd").id == "tts-1-hd"


def test_voices_list(client):
    body = client.get("/audio/voices", cast_to=object)
    assert "af_heart" in [v["id"] for v in body["voices"]]


def test_sdk_sees_errors_as_bad_request(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="tts-1", voice="nobody", input="x")
    assert e.value.body["param"] == "voice"
