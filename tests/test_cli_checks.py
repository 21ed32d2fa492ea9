"""`diffmem gradcheck` and `diffmem report`, driven through click's CliRunner."""

import json
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

import cli
from diffmem import manual_grads

TINY = [
    "--memory-size", "8", "--word-size", "4", "--hidden-size", "8",
    "--controller-layers", "1", "--vector-size", "3", "--max-length", "3",
    "--batch-size", "4", "--curriculum-start", "0",
]  # fmt: skip


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "copy"
    result = invoke("train", "copy", *TINY, "--steps", 2, "--out", out)
    assert result.exit_code == 0, result.output
    return out / "checkpoint.npz"


@pytest.mark.slow
def test_gradcheck_passes_and_reports_every_pair_as_json():
    result = invoke("gradcheck", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert set(report["worst"]) == {"autograd-manual", "autograd-fd", "manual-fd"}
    tolerance = report["tolerances"]["backend_relative"]
    assert report["worst"]["autograd-manual"] <= tolerance


def test_gradcheck_of_one_backend_compares_it_with_finite_differences_only():
    result = invoke("gradcheck", "--backend", "manual", "--json")

    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["worst"]) == {"manual-fd"}


def test_gradcheck_exits_1_and_names_the_parameter_when_a_rule_is_wrong(monkeypatch):
    original = manual_grads.backward_interpolate

    def wrong_gate(*args):
        dcontent, dw_prev, dgate = original(*args)
        return dcontent, dw_prev, 1.02 * dgate

    monkeypatch.setattr(manual_grads, "backward_interpolate", wrong_gate)
    result = invoke("gradcheck", "--backend", "manual")

    assert result.exit_code == 1
    assert "FAIL" in result.output and "head_bias" in result.output
    assert result.output.strip().endswith("FAILED")


def test_gradcheck_rejects_an_unknown_backend():
    result = invoke("gradcheck", "--backend", "torch")

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "'torch' is not one of" in result.output


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_writes_one_self_contained_page(checkpoint, tmp_path):
    page = tmp_path / "copy.html"
    result = invoke("report", checkpoint, "--html", page, "--length", 3)

    assert result.exit_code == 0, result.output
    assert str(page) in result.output
    text = page.read_text()
    parser = Tags()
    parser.feed(text)
    slider = [attrs for tag, attrs in parser.tags if attrs.get("type") == "range"]
    assert len(slider) == 1 and slider[0]["max"] == str(2 * 3 + 2 - 1)  # T - 1
    assert "http://" not in text and "https://" not in text


def test_report_of_a_missing_checkpoint_is_a_one_line_error(tmp_path):
    page = tmp_path / "page.html"
    result = invoke("report", tmp_path / "nothing.npz", "--html", page)

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: ")
    assert not page.exists()
