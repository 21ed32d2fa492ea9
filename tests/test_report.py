"""Tests of `diffmem.report`: the page's structure, and the page in a real browser.

The browser test drives Debian's chromium (/usr/bin/chromium, or the path in
DIFFMEM_CHROMIUM) with playwright. It is skipped when either is missing, except
under CI (CI set in the environment), where .ci/run installs both and a skip
would hide a broken page.
"""

import json
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import tasks
from diffmem import NTMConfig, init_params
from diffmem.report import SIGNIFICANT_DIGITS, render_report, write_report
from diffmem.trace import trace

CHROMIUM = os.environ.get("DIFFMEM_CHROMIUM", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def make_report(length=3, **config_sizes):
    """A copy-task trace of a small random NTM, and its page.

    Returns (history, targets (T, Y), mask (T,), page).
    """
    task = tasks.make_task("copy", vector_size=4, min_length=1, max_length=5)
    sizes = {"memory_size": 16, "word_size": 6, "hidden_size": 8, **config_sizes}
    config = NTMConfig(
        input_size=task.input_size, output_size=task.output_size, **sizes
    )
    params = init_params(config, np.random.default_rng(0))
    batch = task.sample(np.random.default_rng(1), 1, length=length)
    history = trace(params, config, batch.inputs)
    targets, mask = batch.targets[:, 0], batch.mask[:, 0]
    summary = {"task": "copy", "read_heads": config.read_heads, "seed": 0}
    page = render_report(history, targets, mask, f"copy, length {length}", summary)
    return history, targets, mask, page


class PageParser(HTMLParser):
    """Collects every start tag with its attributes, and each script's text."""

    def __init__(self):
        super().__init__()
        self.tags = []  # (tag, attribute dict)
        self.scripts = []  # (attribute dict, text)
        self._script = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = (dict(attrs), [])

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None


def parse(page):
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def embedded_data(page):
    """The JSON the page draws from."""
    scripts = [
        text for attrs, text in parse(page).scripts if attrs.get("id") == "ntm-data"
    ]
    assert len(scripts) == 1, "expected one <script id=ntm-data>"
    return json.loads(scripts[0])


def slider(page):
    ranges = [
        attrs
        for tag, attrs in parse(page).tags
        if tag == "input" and attrs.get("type") == "range"
    ]
    assert len(ranges) == 1, f"expected one range input, got {len(ranges)}"
    return ranges[0]


# structure


def test_page_parses_and_embeds_the_history():
    history, targets, mask, page = make_report()
    data = embedded_data(page)

    for name in ("inputs", "read_weights", "shifts", "erases", "reads", "memory"):
        np.testing.assert_allclose(
            np.array(data[name], dtype=float),
            history[name],
            rtol=1e-3,
            atol=1e-12,
            err_msg=f"embedded {name} differs from the history",
        )
    np.testing.assert_array_equal(data["targets"], targets)
    np.testing.assert_array_equal(data["mask"], mask)
    T = history["inputs"].shape[0]
    assert data["sizes"] == {
        "T": T,
        "X": 6,
        "Y": 4,
        "R": 1,
        "W": 1,
        "K": 2,
        "N": 16,
        "M": 6,
        "S": 1,
    }
    assert "<canvas" in page and "copy, length 3" in page


def test_page_has_no_external_urls():
    _, _, _, page = make_report()
    assert not re.search(r"https?://", page, re.IGNORECASE)
    assert not re.search(r"url\(|@import|//cdn", page, re.IGNORECASE)
    for tag, attrs in parse(page).tags:
        assert tag != "link", f"external <link {attrs}>"
        for name in ("src", "href"):
            assert name not in attrs, f"<{tag} {name}={attrs[name]!r}> loads a file"


def test_slider_runs_over_every_step():
    history, _, _, page = make_report(length=4)
    T = history["inputs"].shape[0]
    range_input = slider(page)
    assert (range_input["min"], range_input["max"]) == ("0", str(T - 1))
    assert range_input["value"] == "0"


def test_two_heads_of_each_kind_and_wider_shifts():
    *_, page = make_report(read_heads=2, write_heads=2, shift_range=2)
    data = embedded_data(page)
    assert (data["sizes"]["R"], data["sizes"]["W"], data["sizes"]["S"]) == (2, 2, 2)
    assert np.shape(data["shifts"])[1:] == (4, 5)
    assert np.shape(data["reads"])[1:] == (2, 6)
    assert np.shape(data["adds"])[1:] == (2, 6)


def test_no_read_heads():
    history, _, _, page = make_report(read_heads=0)
    data = embedded_data(page)
    assert data["sizes"]["R"] == 0 and data["sizes"]["K"] == 1
    assert np.shape(data["read_weights"]) == (len(history["inputs"]), 0)
    assert slider(page)["max"] == str(len(history["inputs"]) - 1)


def test_targets_and_mask_may_be_left_out():
    history, _, _, _ = make_report()
    data = embedded_data(render_report(history, None, None, "no targets", {}))
    assert data["targets"] is None and data["mask"] is None


def test_title_and_summary_are_escaped():
    history, _, _, _ = make_report()
    page = render_report(
        history, None, None, "<script>x()</script>", {"note": "a < b & </script>"}
    )
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page
    assert "a &lt; b &amp; &lt;/script&gt;" in page
    assert len(parse(page).scripts) == 2  # the data and the drawing code


def test_floats_keep_four_significant_digits():
    *_, page = make_report()
    text = page.split('id="ntm-data">')[1].split("</script>")[0]
    for number in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text):
        mantissa = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
        assert len(mantissa) <= SIGNIFICANT_DIGITS, number


def test_paper_sized_trace_stays_small():
    # the copy task's longest training sequence (length 20, 42 steps) with
    # the paper's memory, 128 x 20
    task = tasks.make_task("copy")
    config = NTMConfig(
        input_size=task.input_size, output_size=task.output_size, hidden_size=8
    )
    params = init_params(config, np.random.default_rng(0))
    batch = task.sample(np.random.default_rng(1), 1, length=20)
    history = trace(params, config, batch.inputs)
    page = render_report(history, batch.targets[:, 0], batch.mask[:, 0], "copy", {})
    assert history["memory"].shape == (43, 128, 20)
    assert len(page.encode()) < 1.5e6


def test_bad_history_is_refused_with_its_name():
    history, _, _, _ = make_report()
    with pytest.raises(ValueError, match="no 'reads'"):
        render_report(
            {k: v for k, v in history.items() if k != "reads"}, None, None, "", {}
        )
    with pytest.raises(ValueError, match="'memory'.*N = 15"):
        render_report(
            {**history, "memory": history["memory"][:, 1:]}, None, None, "", {}
        )
    with pytest.raises(ValueError, match="targets must have shape"):
        render_report(history, np.zeros((2, 2)), None, "", {})


def test_write_report_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "report.html"
    write_report(path, "<p>old</p>")
    write_report(path, "<p>new</p>")
    assert path.read_text(encoding="utf-8") == "<p>new</p>"
    with pytest.raises(TypeError):
        write_report(path, None)
    assert path.read_text(encoding="utf-8") == "<p>new</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


# the page in a headless chromium


@pytest.fixture
def chromium_page(tmp_path):
    """A playwright Page in Debian's chromium, with a fresh profile.

    Yields (page, problems): console errors, page errors and requests for
    anything but file:// and data: URLs are appended to `problems`.
    """
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("no playwright (pip install -e '.[browser]')")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run should have installed it")
        pytest.skip(message)

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            problems = []
            page.on(
                "console",
                lambda message: (
                    message.type == "error"
                    and problems.append(f"console: {message.text}")
                ),
            )
            page.on("pageerror", lambda error: problems.append(f"page: {error}"))
            page.on(
                "request",
                lambda request: (
                    request.url.startswith(("file:", "data:"))
                    or problems.append(f"request: {request.url}")
                ),
            )
            yield page, problems
        finally:
            context.close()


def shown(page):
    """What the page shows now: step label, head cards, memory and sequence."""
    return {
        "step": page.inner_text("#step-label"),
        "title": page.inner_text("#step-title"),
        "heads": page.inner_text("#head-cards"),
        "values": page.inner_text("#step-values"),
        "memory": page.eval_on_selector("#memory", "canvas => canvas.toDataURL()"),
        "sequence": page.eval_on_selector("#sequence", "c => c.toDataURL()"),
    }


@pytest.mark.browser
def test_page_steps_through_time_in_chromium(chromium_page, tmp_path):
    page, problems = chromium_page
    history, _, _, html_text = make_report(
        length=4, read_heads=2, write_heads=2, shift_range=2
    )
    T = history["inputs"].shape[0]
    path = tmp_path / "report.html"
    write_report(path, html_text)
    page.goto(path.as_uri())

    # step 0: every head has a card, with its parameters printed
    first = shown(page)
    assert first["step"] == first["title"] == "0"
    assert page.locator("#head-cards .card").count() == 4
    assert "Read head 1" in first["heads"] and "Write head 1" in first["heads"]
    betas = re.findall(r"key strength β\s+(\S+)", first["heads"])
    np.testing.assert_allclose(
        [float(b) for b in betas], history["key_strengths"][0], rtol=1e-3
    )

    # the right arrow key moves one step: the step, text and pictures change
    page.locator("body").press("ArrowRight")
    second = shown(page)
    assert second["step"] == second["title"] == "1"
    for name in ("heads", "values", "memory", "sequence"):
        assert second[name] != first[name], f"{name} unchanged after ArrowRight"
    assert page.input_value("#step") == "1"

    # setting the slider as a user drags it, then the buttons
    page.eval_on_selector(
        "#step",
        f"""slider => {{
        slider.value = "{T - 1}";
        slider.dispatchEvent(new Event("input", {{bubbles: true}}));
    }}""",
    )
    assert page.inner_text("#step-label") == str(T - 1)
    page.click("#next")  # already at the last step: stays there
    assert page.inner_text("#step-label") == str(T - 1)
    page.click("#prev")
    assert page.inner_text("#step-label") == str(T - 2)

    # the memory shown after the write differs from the one before it
    before = page.eval_on_selector("#memory", "c => c.toDataURL()")
    page.check("input[name=when][value=after]")
    assert page.eval_on_selector("#memory", "c => c.toDataURL()") != before
    assert "after step" in page.inner_text("#memory-caption")

    page.evaluate("window.scrollTo(0, 0)")
    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert problems == []
