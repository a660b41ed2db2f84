"""Java servers from Maven Central: resolve jars with Maven, find a JDK, build a classpath."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from stack.base import run_checked
from stack.errors import DownloadError, JavaError, StackError

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>smart-meter.local</groupId><artifactId>{name}-runtime</artifactId><version>1</version>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""
_DEPENDENCY = (
    "    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
    "{exclusions}</dependency>"
)
_MARKER = ".resolved"


def resolve_jars(
    service: str, coordinates: list[str], target: Path, exclusions: list[str] | None = None
) -> Path:
    """Copy ``group:artifact:version`` and their runtime dependencies into ``target/lib``.

    Cheap when already done for the same coordinates (a marker file records them).
    """
    lib = target / "lib"
    wanted = "\n".join(coordinates + [f"exclude {e}" for e in exclusions or []])
    marker = target / _MARKER
    if marker.exists() and marker.read_text() == wanted and any(lib.glob("*.jar")):
        return lib
    if shutil.which("mvn") is None:
        raise StackError(f"{service}: Maven (mvn) is missing; install it: apt-get install maven")
    target.mkdir(parents=True, exist_ok=True)
    exclusion_xml = "".join(
        "<exclusion><groupId>{}</groupId><artifactId>{}</artifactId></exclusion>".format(
            *map(escape, e.split(":"))
        )
        for e in exclusions or []
    )
    dependencies = "\n".join(
        _DEPENDENCY.format(
            g=escape(g),
            a=escape(a),
            v=escape(v),
            exclusions=f"<exclusions>{exclusion_xml}</exclusions>" if exclusion_xml else "",
        )
        for g, a, v in (c.split(":") for c in coordinates)
    )
    (target / "pom.xml").write_text(_POM.format(name=service, dependencies=dependencies))
    if lib.exists():
        shutil.rmtree(lib)
    try:
        run_checked(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(target / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={lib}",
            ],
            what=f"{service}: resolving jars from Maven Central",
        )
    except StackError as error:
        raise DownloadError(service, " ".join(coordinates), str(error)) from error
    marker.write_text(wanted)
    return lib


def classpath(*folders: Path) -> str:
    """All jars of the folders, sorted, joined for ``-cp``."""
    jars = sorted(str(jar) for folder in folders for jar in folder.glob("*.jar"))
    return os.pathsep.join(jars)


def java_binary(service: str, major: int) -> str:
    """The ``java`` to use (``JAVA_HOME`` first); raise if its major version is not ``major``."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None or not Path(java).exists():
        raise JavaError(service, "no java on PATH", str(major))
    found = java_major_version(java)
    if found != major:
        raise JavaError(service, f"Java {found} at {java}", str(major))
    return java


def java_major_version(java: str) -> int:
    output = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if match is None:
        return 0
    first = int(match.group(1))
    return int(match.group(2) or 0) if first == 1 else first
