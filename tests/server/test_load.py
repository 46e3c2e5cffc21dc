"""test_load.py - the seed's load (10 concurrent /synthesize all succeed) and overload (50
concurrent: each 200 or 503 with Retry-After, healthy afterwards)."""
import concurrent.futures as cf
import time

import pytest
import requests

from conftest import post, probe

pytestmark = pytest.mark.load


def test_ten_concurrent_synthesize_all_succeed(api):
    def one(i):
        r = post(api + "/synthesize", {"text": f"Request number {i}.", "output_format": "wav"},
                 timeout=600)
        return r.status_code, r.content

    with cf.ThreadPoolExecutor(10) as ex:
        results = list(ex.map(one, range(10)))
    assert [c for c, _ in results] == [200] * 10
    for _, body in results:
        assert probe(body)["duration"] > 0.3


def test_fifty_concurrent_are_served_or_refused_at_once(api):
    def one(i):
        t0 = time.time()
        r = post(api + "/synthesize", {"text": f"Load {i}.", "output_format": "wav"}, timeout=900)
        return r.status_code, r.headers.get("Retry-After"), time.time() - t0, r

    with cf.ThreadPoolExecutor(50) as ex:
        results = list(ex.map(one, range(50)))
    codes = [c for c, _, _, _ in results]
    assert set(codes) <= {200, 503}, codes
    assert codes.count(200) >= 10, codes
    for code, retry, took, r in results:
        if code == 503:
            assert r.json()["error"] == "Overloaded"
            assert retry and int(retry) >= 1
            assert took < 5, "a refusal must come at once, not after waiting"
    assert requests.get(api + "/ready", timeout=10).status_code == 200
    r = post(api + "/synthesize", {"text": "Still healthy.", "output_format": "wav"})
    assert r.status_code == 200
