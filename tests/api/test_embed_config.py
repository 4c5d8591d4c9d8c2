"""What the `<gradio-app src=".../slug">` web component fetches for each one-demo page, over
HTTP (tests/browser/test_embed.py shows the pages themselves in Chromium)."""

import pytest

SLUGS = ["digits", "activations", "learning", "generation", "tokens", "inside", "quantization",
         "sentiment", "attention", "recurrent", "gans", "transfer",
         "evaluation"]


@pytest.mark.parametrize("slug", SLUGS)
def test_a_demo_config_for_the_web_component_holds_that_demo_alone(app_url, slug):
    """What `<gradio-app src=".../slug">` fetches: the demo's page as the only page, at "", so
    the component draws it whatever the address of the blog post; the root is this server."""
    import httpx

    config = httpx.get(f"{app_url}/{slug}/config").json()
    page = httpx.get(f"{app_url}/config", params={"page": slug}).json()
    assert config["root"] == app_url
    assert list(config["page"]) == [""]
    title = {path: name for path, name, _ in page["pages"]}[slug]
    assert config["pages"] == [["", title, False]]
    assert config["layout"] == page["layout"]
    assert [c["id"] for c in config["components"]] == [c["id"] for c in page["components"]]
    assert [d["id"] for d in config["dependencies"]] == [d["id"] for d in page["dependencies"]]
    ids = {c["id"] for c in config["components"]}
    assert set(config["page"][""]["components"]) == ids
    # Behind a proxy (a Space), the root is the public address, as gradio's /config finds it.
    proxied = httpx.get(f"{app_url}/{slug}/config", headers={
        "x-forwarded-host": "someone.hf.space", "x-forwarded-proto": "https"}).json()
    assert proxied["root"] == "https://someone.hf.space"


def test_only_demo_pages_have_a_web_component_config(app_url):
    import httpx

    for path in ("/nothing/config", "/..%2Fetc/config", "/digits/config/x"):
        assert httpx.get(app_url + path).status_code == 404, path
    assert httpx.post(f"{app_url}/digits/config").status_code == 405


def test_a_file_answers_alike_with_or_without_an_origin_as_caches_are_told(app_url):
    """A blog post's page loads an example's picture twice: as an <img> (no Origin) and, when
    the example is clicked, for the Sketchpad to draw on (with the blog's Origin, needing CORS
    headers). Each answer says `Vary: Origin`, so a browser does not reuse the first for the
    second (without it, the example did not load in a web component for up to a minute)."""
    import re

    import httpx

    config = httpx.get(f"{app_url}/digits/config").text
    url = re.search(r'"(http[^"]+/gradio_api/file=[^"]+\.png)"', config).group(1)
    plain = httpx.get(url)
    assert plain.status_code == 200 and "origin" in plain.headers["vary"].lower()
    blog = httpx.get(url, headers={"Origin": "http://127.0.0.1:9"})
    assert blog.headers["access-control-allow-origin"] == "http://127.0.0.1:9"
    assert blog.headers["vary"].lower().count("origin") == 1  # said once, not twice
    assert "origin" in httpx.get(f"{app_url}/config").headers["vary"].lower()
