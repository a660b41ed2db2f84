"""LibreOffice headless and poppler: what renders an exported workbook to PDF and PNG.

Tests that look at a workbook the way a person sees it print it with LibreOffice
(``libreoffice-calc-nogui`` from Debian: Calc without the desktop) and turn the pages
into text (``pdftotext``) and pictures (``pdftoppm``) with ``poppler-utils``. Both are
installed with apt on first use when missing, as the servers of the stack are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stack.base import run_checked
from stack.errors import StackError

APT_PACKAGES = ("libreoffice-calc-nogui", "poppler-utils")
PROGRAMS = ("soffice", "pdftoppm", "pdftotext", "pdfinfo")
APT_LOCK_TIMEOUT_S = 900
"""Other installs may hold dpkg's lock (several checkouts share one machine): wait for it."""
RENDER_TIMEOUT_S = 600.0


def missing_programs() -> list[str]:
    return [program for program in PROGRAMS if shutil.which(program) is None]


def ensure_office() -> None:
    """``apt-get install`` LibreOffice Calc and poppler if any program is missing."""
    missing = missing_programs()
    if not missing:
        return
    packages = " ".join(APT_PACKAGES)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(
            f"office: missing {', '.join(missing)}; install them with "
            f"`sudo apt-get install -y {packages}` (Debian 12)"
        )
    apt = [
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "-o",
        f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_S}",
    ]
    run_checked([*apt, "update"], "office: apt-get update")
    run_checked(
        [*apt, "install", "-y", "--no-upgrade", "--no-install-recommends", *APT_PACKAGES],
        f"office: apt-get install {packages}",
    )


def render_pdf(workbook: Path, out_dir: Path) -> Path:
    """The workbook printed to ``out_dir/<name>.pdf`` by LibreOffice headless, with a
    profile of its own (so that runs in parallel do not share LibreOffice's lock)."""
    ensure_office()
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / ".lo-profile"
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile.resolve()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT_S,
        check=False,
    )
    pdf = out_dir / f"{workbook.stem}.pdf"
    if result.returncode != 0 or not pdf.exists():
        raise StackError(
            f"office: soffice could not print {workbook} (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-300:]}"
        )
    return pdf


def pdf_pages(pdf: Path) -> int:
    """How many pages ``pdfinfo`` counts."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split(":", 1)[1])


def pdf_text(pdf: Path, page: int | None = None) -> str:
    """The text of the PDF (of one page, 1-based, if given), in reading layout."""
    pages = ["-f", str(page), "-l", str(page)] if page is not None else []
    result = subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return result.stdout


def pdf_to_png(pdf: Path, prefix: Path, dpi: int = 80, page: int | None = None) -> list[Path]:
    """Each page (or one page) as ``<prefix>-<n>.png``; the files written, in page order."""
    pages = ["-f", str(page), "-l", str(page)] if page is not None else []
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), *pages, str(pdf), str(prefix)],
        capture_output=True,
        check=True,
    )
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))
