"""test_errors.py - every error type of api.md, in the seed's and OpenAI's shapes, saying where."""
import requests

from conftest import error_of, post


def syn(api, body, **kw):
    return post(api + "/synthesize", body, **kw)


def test_empty_and_whitespace_text(api):
    for text in ("", "   ", "\n\t "):
        r = syn(api, {"text": text})
        assert r.status_code == 400 and error_of(r) == "ValidationError"
        body = r.json()
        assert body["message"] == "Text input cannot be empty or whitespace-only"
        assert body["details"] == {"field": "text", "received": text}


def test_missing_text(api):
    r = syn(api, {"voice_id": "af_heart"})
    assert r.status_code == 400 and r.json()["details"]["field"] == "text"


def test_wrong_types_name_the_field(api):
    for body, field in (({"text": 5}, "text"), ({"text": "a", "speaking_rate": "fast"}, "speaking_rate"),
                        ({"text": "a", "voice_id": ["af_heart"]}, "voice_id"),
                        ({"text": "a", "speaking_rate": True}, "speaking_rate"),
                        ({"text": "a", "output_format": 3}, "output_format")):
        r = syn(api, body)
        assert r.status_code == 400 and error_of(r) == "ValidationError", r.text
        assert r.json()["details"]["field"] == field and field in r.json()["message"]


def test_unknown_field_is_rejected(api):
    r = syn(api, {"text": "a", "pitch": 3})
    assert r.status_code == 400 and r.json()["details"]["field"] == "pitch"
    assert "unknown field" in r.json()["message"]


def test_malformed_json_says_where(api):
    r = syn(api, '{"text": "a",\n "voice_id": }')
    assert r.status_code == 400 and error_of(r) == "ValidationError"
    d = r.json()["details"]
    assert d["line"] == 2 and d["column"] > 1
    for bad in ('{"text": "a"} trailing', "[1,2]", '"just a string"', "{", "nul\x00l"):
        assert syn(api, bad).status_code == 400, bad


def test_duplicate_keys_are_rejected(api):
    r = syn(api, '{"text": "a", "text": "b"}')
    assert r.status_code == 400 and "duplicate" in r.json()["message"]


def test_invalid_utf8_is_rejected(api):
    r = syn(api, b'{"text": "caf\xe9"}')
    assert r.status_code == 400 and error_of(r) == "ValidationError"
    assert "UTF-8" in r.json()["message"] or "utf-8" in r.json()["message"].lower()
    r = syn(api, b'{"text": "\xed\xa0\x80 surrogate"}')
    assert r.status_code == 400


def test_nul_escape_in_text_is_rejected(api):
    assert syn(api, '{"text": "a\\u0000b"}').status_code == 400


def test_speaking_rate_range(api):
    for rate in (0.49, 2.01, -1, 1e308):
        r = syn(api, {"text": "a", "speaking_rate": rate})
        assert r.status_code == 400 and r.json()["details"]["field"] == "speaking_rate"


def test_unsupported_voice(api):
    for voice in ("nobody", "../../etc/passwd", "/etc/passwd", "af_heart/../x", "af_heart\\x",
                  "%2e%2e", "a" * 300, "af_bella(x)+af_sky", "af_bella+", ""):
        r = syn(api, {"text": "a", "voice_id": voice})
        assert r.status_code == 400 and error_of(r) == "UnsupportedVoice", (voice, r.text)
        assert r.json()["details"]["field"] == "voice_id"


def test_unsupported_language(api):
    for lang in ("xx", "klingon", "ja", "zh", "fr"):  # fr: af_heart speaks English
        r = syn(api, {"text": "a", "language": lang})
        assert r.status_code == 400 and error_of(r) == "UnsupportedLanguage", (lang, r.text)
        assert r.json()["details"]["field"] == "language"


def test_unsupported_format(api):
    for fmt in ("flac", "MP3", "exe", ""):
        r = syn(api, {"text": "a", "output_format": fmt})
        assert r.status_code == 400 and error_of(r) == "UnsupportedFormat", fmt
        assert set(r.json()["details"]["supported"]) == {"mp3", "wav", "ogg"}


def test_text_too_long_is_413(api):
    r = syn(api, {"text": "word " * 500})  # 2500 characters; this server allows 2000
    assert r.status_code == 413 and error_of(r) == "PayloadTooLarge"
    assert r.json()["details"]["max_chars"] == 2000


def test_body_too_large_is_413(api):
    r = syn(api, '{"text": "' + "a" * 70000 + '"}')
    assert r.status_code == 413 and error_of(r) == "PayloadTooLarge"


def test_not_json_is_415(api):
    r = requests.post(api + "/synthesize", data="text=hello", timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and error_of(r) == "UnsupportedMediaType"
    r = requests.post(api + "/synthesize", data="hello", headers={"Content-Type": "text/plain"},
                      timeout=10)
    assert r.status_code == 415


def test_not_found_and_method_not_allowed(api):
    r = requests.get(api + "/nope", timeout=10)
    assert r.status_code == 404 and error_of(r) == "NotFound"
    r = requests.get(api + "/synthesize", timeout=10)
    assert r.status_code == 405 and error_of(r) == "MethodNotAllowed"
    assert "POST" in r.headers["Allow"]
    r = requests.delete(api + "/v1/audio/speech", timeout=10)
    assert r.status_code == 405 and error_of(r, "openai") == "MethodNotAllowed"


def test_openai_errors_have_openai_shape(api):
    r = post(api + "/v1/audio/speech", {"input": "hi", "voice": "nobody"})
    assert r.status_code == 400 and error_of(r, "openai") == "UnsupportedVoice"
    err = r.json()["error"]
    assert err["param"] == "voice" and err["type"] == "invalid_request_error"
    for body, param in (({"input": "hi", "speed": 5}, "speed"),
                        ({"input": "hi", "response_format": "ogg"}, "response_format"),
                        ({"input": ""}, "input"), ({"input": "hi", "model": "gpt-5"}, "model"),
                        ({"input": "hi", "stream_format": "ws"}, "stream_format"),
                        ({"input": "hi", "lang_code": "q"}, "lang_code"),
                        ({"input": "hi", "voice": 1}, "voice"),
                        ({"input": "hi", "extra": 1}, "extra")):
        r = post(api + "/v1/audio/speech", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["param"] == param, (body, r.text)


def test_captioned_and_phonemize_validate(api):
    r = post(api + "/dev/captioned_speech", {"input": "  "})
    assert r.status_code == 400 and error_of(r, "openai") == "ValidationError"
    r = post(api + "/dev/phonemize", {"text": "hi", "language": "xx"})
    assert r.status_code == 400 and error_of(r, "openai") == "UnsupportedLanguage"


def test_errors_leave_the_server_healthy(api):
    assert requests.get(api + "/ready", timeout=10).status_code == 200


def test_long_multibyte_field_name_is_quoted_as_valid_json(api):
    key = "é" * 80
    r = syn(api, '{"text": "a", "%s": 1}' % key)
    assert r.status_code == 400 and error_of(r) == "ValidationError"
    assert "unknown field" in r.json()["message"] and "éééé" in r.json()["message"]
