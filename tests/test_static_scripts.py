"""Scripts reach phones without their comments (a sixth of what they weighed compressed), line for
line, with the caching every static file has; other static files are served as they are."""

from __future__ import annotations

import pytest

from outreach.assets import STATIC_DIR, without_comments

SCRIPTS = sorted(p.relative_to(STATIC_DIR).as_posix() for p in (STATIC_DIR / "js").glob("*.js"))


@pytest.mark.parametrize("path", SCRIPTS)
def test_each_script_is_served_without_comments_line_for_line(client, path):
    digest = client.app.state.static_hashes[path]
    r = client.get(f"/static/{path}?v={digest}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    source = (STATIC_DIR / path).read_text(encoding="utf-8")
    served = r.text
    assert served.count("\n") == source.count("\n")  # an error's line number is the file's
    assert not [line for line in served.splitlines() if line.lstrip().startswith("//")]
    assert " // " not in served and len(served) < len(source)
    # Asked again with its validator: 304, nothing sent.
    again = client.get(f"/static/{path}?v={digest}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_other_static_files_are_served_as_they_are(client):
    r = client.get("/static/app.css")
    assert r.content == (STATIC_DIR / "app.css").read_bytes() and r.headers["cache-control"] == "no-cache"


def test_a_missing_script_is_a_404(client):
    assert client.get("/static/js/nothing-here.js").status_code == 404
    assert client.get("/static/js/../../outreach/settings.py").status_code == 404


def test_only_comments_go():
    script = ('// a whole line\n'
              '  // an indented one\n'
              'const url = "//cdn.example/x.js"; // after a statement\n'
              'const re = /^https?:\\/\\//; const s = "a // b";\n'
              'call(a, // an argument\'s note\n'
              '  b);\n')
    assert without_comments(script) == ('\n'
                                        '\n'
                                        'const url = "//cdn.example/x.js";\n'
                                        'const re = /^https?:\\/\\//; const s = "a // b";\n'
                                        'call(a,\n'
                                        '  b);\n')
