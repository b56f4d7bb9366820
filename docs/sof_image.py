"""Make docs/img/summary_of_findings.png: the report's summary of findings, as a reader sees it.

Takes the summary-of-findings section of a built report (``results/report/index.html``
of the example review), with the report's own styles, into a page of its own, has
headless Chromium screenshot it, and crops the white margin (with a border of 12
pixels). Run after the example review has run::

    evsynth init --example /tmp/example && evsynth run /tmp/example
    .venv/bin/python docs/sof_image.py /tmp/example/results/report/index.html

Needs Chromium (``apt-get install chromium``) and Pillow (a dependency of matplotlib).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

OUT = Path(__file__).parent / "img/summary_of_findings.png"
START = '<section class="sof" id="meta-summary-of-findings">'
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def sof_page(report: str) -> str:
    """Return a page with the report's head and only its summary of findings."""
    head = report[: report.index("<body")]
    start = report.index(START)
    end = report.index("</section>", start) + len("</section>")
    body = f'<body>\n<section id="meta">\n{report[start:end]}\n</section>\n</body>'
    return f"{head}{body}\n</html>\n"


def crop(path: Path, border: int = 12) -> None:
    """Cut the white margin of a screenshot, keeping ``border`` pixels."""
    image = Image.open(path).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    if box is None:
        raise SystemExit(f"{path}: the screenshot is blank")
    left, top, right, bottom = box
    image.crop(
        (
            max(0, left - border),
            max(0, top - border),
            min(image.width, right + border),
            min(image.height, bottom + border),
        )
    ).save(path, optimize=True)


def main() -> None:
    """Write the picture (``--out``, default docs/img/summary_of_findings.png)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="results/report/index.html")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        raise SystemExit("no Chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "sof.html"
        page.write_text(sof_page(args.report.read_text("utf-8")), encoding="utf-8")
        shot = Path(tmp) / "sof.png"
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--hide-scrollbars", "--window-size=1280,1600",
             f"--screenshot={shot}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        crop(shot)
        shutil.copy(shot, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
